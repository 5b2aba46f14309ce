"""Images (PNG, JPEG, TIFF) read by text recognition, one page per image frame.

`partition_image_bytes(data, name, max_pages=..., ocr=limits)` opens the image with Pillow, which reads
only its header, and checks the size it declares before decoding a pixel: an image
(or a frame of a multi-page TIFF) with more pixels than `OcrLimits.max_image_pixels`
is refused, so a small file that decodes to gigabytes (a decompression bomb) never
does. A TIFF with more frames than the document page limit is refused the same way.
Each frame is converted to grayscale and read by `ingest.ocr.recognise`; frame n is
page n, and the document's metadata lists the pages read by OCR (`ocr_pages`, every
page of an image) and the page count.

Failure modes: `ImageTooLarge` (a `DocumentTooLarge`) past the pixel or page limit;
`CorruptDocument` for bytes Pillow cannot decode; `OcrUnavailable` without
Tesseract; `EmptyDocument` (by the extractor) when no text is recognised.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from ingest.errors import CorruptDocument, ImageTooLarge
from ingest.ocr import OcrLimits, recognise, require_tesseract
from ingest.partitioners import Partitioned

logger = logging.getLogger(__name__)


def partition_image_bytes(data: bytes, name: str, *, max_pages: int, ocr: OcrLimits) -> Partitioned:
    """An image file's recognised text, frame by frame (see the module docstring)."""
    limits = ocr
    from PIL import Image, UnidentifiedImageError

    require_tesseract(name, "an image")
    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        logger.info("Pillow could not open %s: %r", name, exc)
        raise CorruptDocument(f"{name} is not a readable image; it may be damaged.") from None
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, limits) from None
    if frames > max_pages:
        raise ImageTooLarge(f"{name} has {frames} pages (image frames); the limit is {max_pages}.")
    pieces = []
    for index in range(frames):
        page = _frame(image, index, name, limits)
        pieces.extend(recognise(page, page_number=index + 1, name=name, dpi=_dpi(image)))
    metadata = {"page_count": frames, "ocr_pages": list(range(1, frames + 1))}
    return Partitioned(pieces, None, metadata)


def _frame(image: Any, index: int, name: str, limits: OcrLimits) -> Any:
    """Frame `index` decoded in grayscale, after its declared size passed the limit."""
    from PIL import Image

    try:
        image.seek(index)
        width, height = image.size
        if width * height > limits.max_image_pixels:
            raise _too_many_pixels(name, (width, height), limits)
        frame = image.convert("L")
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, limits) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        logger.info("Pillow could not decode %s frame %d: %r", name, index, exc)
        raise CorruptDocument(f"{name} is not a readable image; it may be damaged.") from None
    return frame


def _dpi(image: Any) -> int | None:
    """The resolution the image (frame) declares, if plausible; else Tesseract estimates it."""
    try:
        dpi = round(float(image.info.get("dpi", (0, 0))[0]))
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if 70 <= dpi <= 2400 else None


def _too_many_pixels(name: str, size: tuple[int, int] | None, limits: OcrLimits) -> ImageTooLarge:
    declared = f" is {size[0]:,} x {size[1]:,} pixels;" if size else " is too large;"
    return ImageTooLarge(
        f"{name}{declared} the limit for text recognition is "
        f"{limits.max_image_pixels / 1e6:,.0f} million pixels per image."
    )
