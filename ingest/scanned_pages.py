"""Text recognition for the pages of a PDF that carry no text layer (scans).

`recognise_pages(data, name, pages, limits)` renders each listed page (1-based) with
PDFium (`pypdfium2`, in grayscale at `OcrLimits.pdf_dpi`, lowered for a page so large
that it would pass `max_image_pixels`) and reads it with `ingest.ocr.recognise`. A
page whose rendering is blank (no pixel darker than near-white: a separator page)
has nothing to read and is skipped without OCR, so a text PDF with blank pages still
reads where Tesseract is not installed. It returns the pieces, each on its page, and
the numbers of the pages that were read by OCR.

Failure modes: `OcrUnavailable` when a page needs OCR and Tesseract is missing;
`CorruptDocument` when PDFium cannot open the file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from ingest.errors import CorruptDocument
from ingest.normalise import Piece
from ingest.ocr import OcrLimits, recognise, require_tesseract

logger = logging.getLogger(__name__)

POINTS_PER_INCH = 72
# A rendered page whose darkest pixel is at least this light holds nothing to read.
_BLANK_LEVEL = 240


def recognise_pages(
    data: bytes, name: str, pages: Sequence[int], limits: OcrLimits
) -> tuple[list[Piece], list[int]]:
    """OCR pieces of `pages` of the PDF `data`, and the pages actually read by OCR."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        logger.info("PDFium could not open %s: %r", name, exc)
        raise CorruptDocument(f"{name} is not a readable PDF; it may be damaged.") from None
    pieces: list[Piece] = []
    read: list[int] = []
    try:
        for number in pages:
            page = document[number - 1]
            try:
                dpi = _render_dpi(page.get_size(), limits)
                image = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True).to_pil()
            finally:
                page.close()
            if image.getextrema()[0] >= _BLANK_LEVEL:
                continue
            require_tesseract(name, f"page {number} (it has no text layer)")
            pieces.extend(recognise(image, page_number=number, name=name, dpi=dpi))
            read.append(number)
    finally:
        document.close()
    return pieces, read


def _render_dpi(size: tuple[float, float], limits: OcrLimits) -> int:
    """`limits.pdf_dpi`, or less for a page that would pass `limits.max_image_pixels`."""
    width_in, height_in = (max(side, 1.0) / POINTS_PER_INCH for side in size)
    fitting = math.sqrt(limits.max_image_pixels / (width_in * height_in))
    return max(1, min(limits.pdf_dpi, math.floor(fitting)))
