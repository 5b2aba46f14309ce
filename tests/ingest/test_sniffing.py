"""Content sniffing: the bytes decide the parser when the file name lies."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from ingest.documents import SourceFile
from ingest.errors import CorruptDocument, IngestError, UnsupportedFileType
from ingest.extract import Extractor
from ingest.formats import detect_format
from tests.ingest.test_extract import SAMPLES, assert_offsets_consistent, extract

CATALOG = (SAMPLES / "service-catalog.json").read_bytes()
HTML_PAGE = (SAMPLES / "architecture.html").read_bytes()


@pytest.mark.parametrize(
    ("real", "as_name", "source_type"),
    [
        ("handbook.pdf", "handbook.json", "pdf"),
        ("handbook.pdf", "handbook.csv", "pdf"),
        ("revenue-2026.xlsx", "revenue.pdf", "xlsx"),
        ("revenue-2026.xlsx", "revenue.csv", "xlsx"),
        ("onboarding.docx", "onboarding.xlsx", "docx"),
        ("architecture.html", "architecture.pdf", "html"),
        ("architecture.html", "architecture.json", "html"),
        ("service-catalog.json", "service-catalog.txt", "json"),
        ("service-catalog.json", "service-catalog.pdf", "json"),
        ("service-catalog.json", "service-catalog.jsonl", "json"),
        ("release-notes.jsonl", "release-notes.json", "jsonl"),
        ("oncall-rota.csv", "oncall-rota.txt", "text"),  # text stays text: no guessing
    ],
)
def test_the_parser_follows_the_content_not_the_extension(
    extractor: Extractor, real: str, as_name: str, source_type: str
) -> None:
    doc = extract(extractor, SAMPLES / real, as_name=as_name)
    assert doc.source_type == source_type
    assert doc.metadata["format"] == source_type
    assert_offsets_consistent(doc)
    if as_name.rsplit(".", 1)[1] not in ("txt",):
        assert doc.metadata.get("named_as") not in (None, source_type)


def test_detection_table_without_parsing() -> None:
    assert detect_format("report.pdf", HTML_PAGE) == "html"
    assert detect_format("report.docx", CATALOG) == "json"
    assert detect_format("notes", CATALOG) == "json"
    assert detect_format("data.json", b'{"a": 1}\n{"a": 2}\n') == "jsonl"
    assert detect_format("data.jsonl", b'{"a": 1}\n') == "jsonl"  # one line is still JSON Lines
    assert detect_format("retry.py", b"def f():\n    return 1\n") == "code"
    assert detect_format("deploy.yml", b"replicas: 2\n") == "code"
    assert detect_format("rota.tsv", b"a\tb\n1\t2\n") == "csv"
    assert detect_format("notes.txt", b"[Draft] not JSON at all ]") == "text"


def _zip_with(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "error", "says"),
    [
        ("budget.xlsx", b"just some words", CorruptDocument, "not a valid Excel"),
        ("report.pdf", b"This is plain text, not a PDF.", CorruptDocument, "not a valid PDF"),
        ("budget.xlsx", _zip_with("notes/readme.txt"), CorruptDocument, "not a valid Excel"),
        ("retro.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n", UnsupportedFileType, "meeting"),
        ("setup.bin", b"\x00\x01binary", UnsupportedFileType, ".bin files are not supported"),
    ],
)
def test_lies_that_cannot_be_read_fail_with_a_sentence(
    filename: str, content: bytes, error: type[IngestError], says: str
) -> None:
    with pytest.raises(error) as caught:
        detect_format(filename, content)
    assert says in caught.value.message and filename in caught.value.message


def test_a_workbook_zip_is_recognised_by_its_parts() -> None:
    assert detect_format("anything.bin", (SAMPLES / "revenue-2026.xlsx").read_bytes()) == "xlsx"
    assert json.loads(CATALOG)  # the fixture itself is JSON


def test_media_type_selects_json_without_a_name(extractor: Extractor) -> None:
    doc = extractor.run(SourceFile("upload", b'{"owner": "Platform team"}', "application/json"))
    assert doc.source_type == "json" and doc.text == "owner: Platform team"


def test_images_and_outlook_messages_are_sniffed_by_their_magic_bytes() -> None:
    png = (SAMPLES / "whiteboard-handover.png").read_bytes()
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("L").save(jpeg, format="JPEG")
    tiff = (SAMPLES / "nordhavn-letter.tiff").read_bytes()
    assert detect_format("scan.pdf", png) == "image"
    assert detect_format("photo", jpeg.getvalue()) == "image"
    assert detect_format("letter.txt", tiff) == "image"
    assert detect_format("booking.eml", (SAMPLES / "room-booking.msg").read_bytes()) == "msg"
    with pytest.raises(CorruptDocument, match=r"scan\.png is not a valid image"):
        detect_format("scan.png", b"a few words of text")
    with pytest.raises(UnsupportedFileType, match="looks like a GIF image"):
        detect_format("scan.png", b"GIF89a" + bytes(32))
