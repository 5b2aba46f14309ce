"""Text recognition throughput: pages per second for scanned PDFs and for images.

Builds a scanned PDF of `--pages` pages from copies of the real scans in `sample_docs/`
(the receipt of `bad/scanned.pdf` and the decision sheet of `facilities-minutes.pdf`,
US Letter, rendered for OCR at 300 dpi), and reads it with the real extractor, warm,
in this process (one Tesseract at a time, single-threaded, as in a parser process);
then the same for the 200-dpi PNG and two-page TIFF samples, `--pages` pages in all.
Prints pages/s and seconds per page for each, and checks that every page was OCRed.

    .venv/bin/python -m benchmarks.ocr_throughput [--pages 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ingest.documents import SourceFile
from ingest.extract import Extractor

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


def scanned_pdf(pages: int) -> bytes:
    """A PDF of `pages` scanned pages (no text layer), copied from the samples."""
    import io

    import pypdfium2 as pdfium

    sources = [
        (pdfium.PdfDocument((SAMPLES / "bad" / "scanned.pdf").read_bytes()), 0),
        (pdfium.PdfDocument((SAMPLES / "facilities-minutes.pdf").read_bytes()), 1),
    ]
    target = pdfium.PdfDocument.new()
    for number in range(pages):
        source, index = sources[number % len(sources)]
        target.import_pages(source, [index])
    buffer = io.BytesIO()
    target.save(buffer)
    return buffer.getvalue()


def timed(extractor: Extractor, files: list[SourceFile]) -> tuple[int, float]:
    """Pages OCRed and seconds taken to extract `files`."""
    started = time.perf_counter()
    pages = sum(len(extractor.run(source).metadata["ocr_pages"]) for source in files)
    return pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    extractor = Extractor(max_pages=max(500, args.pages))
    extractor.warm_up()
    pdf = SourceFile("scans.pdf", scanned_pdf(args.pages))
    extractor.run(SourceFile("warm.pdf", scanned_pdf(1)))  # first-use costs out of the timing
    pdf_pages, pdf_seconds = timed(extractor, [pdf])
    assert pdf_pages == args.pages, pdf_pages

    png = SourceFile("whiteboard.png", (SAMPLES / "whiteboard-handover.png").read_bytes())
    tiff = SourceFile("letter.tiff", (SAMPLES / "nordhavn-letter.tiff").read_bytes())
    images = [png, tiff] * max(1, args.pages // 3)
    image_pages, image_seconds = timed(extractor, images)
    print(
        json.dumps(
            {
                "scanned_pdf": {
                    "pages": pdf_pages,
                    "seconds": round(pdf_seconds, 2),
                    "pages_per_second": round(pdf_pages / pdf_seconds, 2),
                    "seconds_per_page": round(pdf_seconds / pdf_pages, 2),
                    "render_dpi": extractor.ocr_limits.pdf_dpi,
                },
                "images": {
                    "pages": image_pages,
                    "seconds": round(image_seconds, 2),
                    "pages_per_second": round(image_pages / image_seconds, 2),
                    "seconds_per_page": round(image_seconds / image_pages, 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
