"""Bad, mislabelled and odd files: each fails with its own readable error, or decodes right."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.documents import SourceFile
from ingest.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    IngestError,
    NoTextLayer,
    UnsupportedFileType,
)
from ingest.extract import Extractor
from tests.ingest.test_extract import assert_offsets_consistent, block_containing, extract

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_docs"
BAD = SAMPLES / "bad"


def assert_readable(error: IngestError, filename: str) -> None:
    message = str(error)
    assert message == error.message and filename in message
    assert message.rstrip().endswith(".") and "Traceback" not in message and "Error" not in message


@pytest.mark.parametrize(
    ("name", "error", "phrase"),
    [
        ("corrupt.pdf", CorruptDocument, "not a readable PDF"),
        ("empty.txt", EmptyDocument, "is empty"),
        ("binary.txt", CorruptDocument, "binary data"),
        ("fake.docx", CorruptDocument, "not a valid Word"),
        ("drawing.pdf", NoTextLayer, "(OCR) found no text"),
    ],
)
def test_bad_files_raise_specific_errors(
    extractor: Extractor, name: str, error: type[IngestError], phrase: str
) -> None:
    with pytest.raises(error) as caught:
        extract(extractor, BAD / name)
    assert phrase in caught.value.message
    assert_readable(caught.value, name)


def test_cp1252_text_is_decoded(extractor: Extractor) -> None:
    doc = extract(extractor, BAD / "latin1.txt")
    assert "Müsli, crème brûlée" in doc.text and "(€)" in doc.text
    assert doc.title == "Café menu for the Leeds office"
    assert_offsets_consistent(doc)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("\ufeffTeam lunch is on Friday.".encode(), "utf-8"),
        ("\ufeffTeam lunch is on Friday.".encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_byte_order_marks(extractor: Extractor, content: bytes, encoding: str) -> None:
    doc = extractor.run(SourceFile("lunch.txt", content))
    assert doc.text == "Team lunch is on Friday." and doc.metadata["encoding"] == encoding


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/readme.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        ("whitespace.md", b" \n\t\r\n  ", EmptyDocument),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), UnsupportedFileType),
        ("archive.zip", _zip_bytes(), UnsupportedFileType),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(100), CorruptDocument),
        ("logo.gif", b"GIF89a" + bytes(100), UnsupportedFileType),
        ("budget.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), UnsupportedFileType),
        ("note.msg", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), CorruptDocument),
        ("budget.xlsx", b"just some words", CorruptDocument),
        ("report.pdf", b"This is plain text, not a PDF.", CorruptDocument),
        ("deck.pptx", _zip_bytes(), CorruptDocument),
    ],
)
def test_unsupported_and_mislabelled_files_fail_cleanly(
    extractor: Extractor, filename: str, content: bytes, error: type[IngestError]
) -> None:
    with pytest.raises(error) as caught:
        extractor.run(SourceFile(filename, content))
    assert_readable(caught.value, filename)


@pytest.mark.parametrize(
    ("real", "as_name", "source_type"),
    [
        ("handbook.pdf", "handbook.txt", "pdf"),
        ("onboarding.docx", "onboarding.pdf", "docx"),
        ("roadmap.pptx", "roadmap.docx", "pptx"),
        ("architecture.html", "architecture.txt", "html"),
        ("runbook.md", "runbook", "text"),
    ],
)
def test_content_wins_over_a_lying_extension(
    extractor: Extractor, real: str, as_name: str, source_type: str
) -> None:
    doc = extract(extractor, SAMPLES / real, as_name=as_name)
    assert doc.source_type == source_type
    assert_offsets_consistent(doc)


def test_media_type_selects_markdown_without_extension(extractor: Extractor) -> None:
    content = (SAMPLES / "runbook.md").read_bytes()
    doc = extractor.run(SourceFile("runbook", content, media_type="text/markdown"))
    assert doc.source_type == "markdown"
    assert block_containing(doc, "Opsgenie").section[-1] == "Detection"


def test_configuration_is_validated_and_page_limit_enforced(extractor: Extractor) -> None:
    with pytest.raises(ValueError, match="hi_res"):
        Extractor(pdf_strategy="hi_res")
    with pytest.raises(DocumentTooLarge, match="3 pages; the limit is 2"):
        extract(Extractor(max_pages=2), SAMPLES / "handbook.pdf")
