"""Text recognition: images and PDF pages without text layer are read by Tesseract.

The samples are real scans (`sample_docs/make_scan_samples.py`): text drawn on a grey,
speckled, slightly turned page. Tesseract's absence and missing language data are
real conditions here too: the program is left off PATH, the data directory is empty.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from ingest.documents import SourceFile
from ingest.errors import CorruptDocument, ImageTooLarge, NoTextLayer, OcrUnavailable
from ingest.extract import Extractor
from ingest.ocr import OcrLimits
from tests.hostile_docs import png_bomb
from tests.ingest.test_extract import BAD, SAMPLES, assert_offsets_consistent, extract
from tests.ingest.test_extract_bad_input import assert_readable

# In CI, scripts/setup.sh has installed Tesseract: there these tests must run.
pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None and os.environ.get("CI") != "true",
    reason="tesseract is not installed (scripts/setup.sh installs it when run as root)",
)


def block_with(doc, needle: str):  # type: ignore[no-untyped-def]
    return next(b for b in doc.blocks if needle in doc.text[b.char_start : b.char_end])


def test_a_png_is_read_with_its_heading_and_paragraphs(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "whiteboard-handover.png")
    assert doc.source_type == "image"
    assert doc.title == "Warehouse shift handover"
    assert doc.metadata["ocr_pages"] == [1] and doc.metadata["page_count"] == 1
    assert_offsets_consistent(doc)
    locker = block_with(doc, "locker 7 of the Leeds warehouse")
    assert locker.page_number == 1 and locker.section == ("Warehouse shift handover",)
    # two paragraphs, each one block, their line breaks joined
    assert "Night shifts hand over to the Tallinn team at 22:15." in doc.text
    assert block_with(doc, "Night shifts") != locker


def test_a_multi_page_tiff_keeps_its_page_numbers(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "nordhavn-letter.tiff")
    assert doc.metadata["ocr_pages"] == [1, 2]
    assert block_with(doc, "Danish kroner").page_number == 1
    contact = block_with(doc, "Freja Holm")
    assert contact.page_number == 2 and contact.section == ("Contacts",)
    assert_offsets_consistent(doc)


def test_a_jpeg_named_as_text_is_sniffed_and_read(extractor: Extractor) -> None:
    buffer = io.BytesIO()
    Image.open(SAMPLES / "whiteboard-handover.png").save(buffer, format="JPEG", quality=85)
    doc = extractor.run(SourceFile("handover.txt", buffer.getvalue()))
    assert doc.source_type == "image" and doc.metadata["named_as"] == "text"
    assert "Spare badge printers" in doc.text


def test_a_scanned_pdf_is_read_by_ocr(extractor: Extractor) -> None:
    doc = extract(extractor, BAD / "scanned.pdf")
    assert doc.metadata["ocr_pages"] == [1]
    assert doc.title == "Taxi receipt"
    assert "Fare 38.50 EUR" in doc.text
    assert block_with(doc, "Fare 38.50 EUR").page_number == 1
    assert_offsets_consistent(doc)


def test_only_the_pages_without_text_are_ocred(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "facilities-minutes.pdf")
    # page 1 has a text layer, page 2 is a scan, page 3 is blank: nothing to read
    assert doc.metadata["ocr_pages"] == [2] and doc.metadata["page_count"] == 3
    assert block_with(doc, "reviewed the meeting-room bookings").page_number == 1
    terrace = block_with(doc, "rooftop terrace of the Lisbon office opens on 1 April")
    assert terrace.page_number == 2 and terrace.section == ("Decision sheet",)
    assert doc.text.index("meeting-room bookings") < doc.text.index("rooftop terrace")
    assert_offsets_consistent(doc)


def test_a_text_pdf_is_never_ocred(extractor: Extractor) -> None:
    assert "ocr_pages" not in extract(extractor, SAMPLES / "handbook.pdf").metadata


def test_a_drawing_without_text_fails_as_no_text_layer(extractor: Extractor) -> None:
    with pytest.raises(NoTextLayer, match=r"text recognition \(OCR\) found no text"):
        extract(extractor, BAD / "drawing.pdf")


@pytest.mark.parametrize(("width", "height"), [(9_000, 9_000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_before_decoding(
    extractor: Extractor, width: int, height: int
) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        extractor.run(SourceFile("bomb.png", png_bomb(width, height)))
    assert "the limit for text recognition is 50 million pixels" in caught.value.message
    assert_readable(caught.value, "bomb.png")


def test_the_pixel_limit_is_configurable(extractor: Extractor) -> None:
    small = Extractor(ocr_limits=OcrLimits(max_image_pixels=1_000_000))
    with pytest.raises(ImageTooLarge, match="1,700 x 900 pixels"):
        extract(small, SAMPLES / "whiteboard-handover.png")
    # a PDF page is rendered at a lower resolution instead, so it is still read
    assert "Fare 38.50" in extract(small, BAD / "scanned.pdf").text


def test_the_page_limit_counts_tiff_frames() -> None:
    with pytest.raises(ImageTooLarge, match=r"2 pages \(image frames\); the limit is 1"):
        extract(Extractor(max_pages=1), SAMPLES / "nordhavn-letter.tiff")


def test_a_truncated_image_is_corrupt(extractor: Extractor) -> None:
    data = (SAMPLES / "whiteboard-handover.png").read_bytes()[:3000]
    with pytest.raises(CorruptDocument) as caught:
        extractor.run(SourceFile("cut.png", data))
    assert_readable(caught.value, "cut.png")


def test_without_tesseract_documents_that_need_ocr_fail_with_that_reason(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without the tesseract program
    with pytest.raises(OcrUnavailable, match="tesseract program is not installed") as caught:
        extract(extractor, SAMPLES / "whiteboard-handover.png")
    assert "apt-get install tesseract-ocr tesseract-ocr-eng" in caught.value.message
    with pytest.raises(OcrUnavailable, match=r"page 2 \(it has no text layer\) needs"):
        extract(extractor, SAMPLES / "facilities-minutes.pdf")
    # text layers and blank pages need no OCR
    assert "ocr_pages" not in extract(extractor, SAMPLES / "handbook.pdf").metadata


def test_without_the_english_data_ocr_fails_with_that_reason(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))  # an empty language-data folder
    with pytest.raises(OcrUnavailable, match="English language data") as caught:
        extract(extractor, BAD / "scanned.pdf")
    assert_readable(caught.value, "scanned.pdf")
