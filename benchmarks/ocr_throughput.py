"""Text recognition throughput: pages per second for scanned PDFs and for images.

Builds a scanned PDF of `--pages` pages from copies of the real scans in `sample_docs/`
(the receipt of `bad/scanned.pdf` and the decision sheet of `facilities-minutes.pdf`,
US Letter, rendered for OCR at 300 dpi), and reads it with the real extractor, warm,
in this process (one Tesseract at a time, single-threaded, as in a parser process);
then the same for the 200-dpi PNG and two-page TIFF samples, `--pages` pages in all.
Prints pages/s, seconds per page and CPU seconds per page (here and in Tesseract) for
each, with the machine's load (wall figures drop on a busy machine, CPU ones do not),
and checks that every page was OCRed.

    .venv/bin/python -m benchmarks.ocr_throughput [--pages 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished children (Tesseract)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def timed(extractor: Extractor, files: list[SourceFile]) -> dict[str, float]:
    """Pages OCRed, wall seconds, and CPU seconds per page (parsing and rendering here,
    Tesseract in its processes) to extract `files`; CPU time does not depend on how
    busy the machine is, wall time does."""
    own, children = _cpu()
    started = time.perf_counter()
    pages = sum(len(extractor.run(source).metadata["ocr_pages"]) for source in files)
    seconds = time.perf_counter() - started
    own_after, children_after = _cpu()
    return {
        "pages": pages,
        "seconds": round(seconds, 2),
        "pages_per_second": round(pages / seconds, 2),
        "seconds_per_page": round(seconds / pages, 2),
        "cpu_seconds_per_page_parser": round((own_after - own) / pages, 3),
        "cpu_seconds_per_page_tesseract": round((children_after - children) / pages, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    extractor = Extractor(max_pages=max(500, args.pages))
    extractor.warm_up()
    pdf = SourceFile("scans.pdf", scanned_pdf(args.pages))
    extractor.run(SourceFile("warm.pdf", scanned_pdf(1)))  # first-use costs out of the timing
    pdf_result = timed(extractor, [pdf])
    assert pdf_result["pages"] == args.pages, pdf_result

    png = SourceFile("whiteboard.png", (SAMPLES / "whiteboard-handover.png").read_bytes())
    tiff = SourceFile("letter.tiff", (SAMPLES / "nordhavn-letter.tiff").read_bytes())
    images = [png, tiff] * max(1, args.pages // 3)
    image_result = timed(extractor, images)
    load = os.getloadavg()[0]
    print(
        json.dumps(
            {
                "scanned_pdf": {**pdf_result, "render_dpi": extractor.ocr_limits.pdf_dpi},
                "images": image_result,
                "cores": os.cpu_count(),
                "load_average_1min": round(load, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
