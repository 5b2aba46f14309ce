"""Outlook messages (.msg): laid out like an .eml, attachments listed apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import extract_msg
import pytest

from ingest.documents import SourceFile
from ingest.errors import CorruptDocument
from ingest.extract import Extractor
from ingest.formats import detect_format
from ingest.msg_files import msg_attachments
from tests.ingest.test_extract import SAMPLES, assert_offsets_consistent, extract
from tests.ingest.test_extract_bad_input import assert_readable

MSG = SAMPLES / "room-booking.msg"
SUBJECT = "Room booking: Lisbon rooftop terrace for the payments offsite"


def test_the_sample_is_a_real_outlook_message() -> None:
    """extract-msg, a reader independent of ours, reads the same message."""
    message = extract_msg.openMsg(str(MSG))
    try:
        assert message.subject == SUBJECT
        assert message.sender == "Mateo Rojas <mateo.rojas@quillfeather.example>"
        assert "Padaria Estrela" in message.body
        assert [a.longFilename for a in message.attachments] == ["offsite-agenda.txt"]
    finally:
        message.close()


def test_the_message_is_a_document_with_its_people_in_metadata(extractor: Extractor) -> None:
    doc = extract(extractor, MSG)
    assert doc.source_type == "msg"
    assert doc.title == SUBJECT
    assert doc.metadata["email_from"] == "Mateo Rojas <mateo.rojas@quillfeather.example>"
    assert doc.metadata["email_to"] == "Hannah Pike <hannah.pike@quillfeather.example>"
    assert doc.metadata["email_cc"] == "Ines Carvalho <ines.carvalho@quillfeather.example>"
    assert doc.metadata["email_date"] == "Wed, 04 Mar 2026 08:30:00 +0000"
    assert doc.metadata["email_attachments"] == ["offsite-agenda.txt"]
    assert doc.text.startswith(
        "From: Mateo Rojas <mateo.rojas@quillfeather.example>\n"
        "To: Hannah Pike <hannah.pike@quillfeather.example>\n"
        "Cc: Ines Carvalho <ines.carvalho@quillfeather.example>\n"
        "Date: Wed, 04 Mar 2026 08:30:00 +0000"
    )
    assert "Catering is ordered from Padaria Estrela" in doc.text
    assert "\x00" not in doc.text and "Refund flow redesign" not in doc.text
    assert_offsets_consistent(doc)


def test_attachments_are_listed_with_their_bytes() -> None:
    subject, attachments = msg_attachments(MSG.read_bytes(), MSG.name)
    assert subject == SUBJECT
    assert [(a.filename, a.media_type) for a in attachments] == [
        ("offsite-agenda.txt", "text/plain")
    ]
    assert attachments[0].content.startswith(b"Payments offsite agenda, 9 April 2026\n")


def test_an_outlook_message_is_sniffed_whatever_its_name() -> None:
    data = MSG.read_bytes()
    assert detect_format("room-booking.bin", data) == "msg"
    assert detect_format("room-booking.txt", data) == "msg"


def test_a_damaged_message_is_corrupt(extractor: Extractor) -> None:
    data = MSG.read_bytes()
    with pytest.raises(CorruptDocument) as caught:
        extractor.run(SourceFile("cut.msg", data[:2048]))
    assert_readable(caught.value, "cut.msg")


def _message_writer() -> ModuleType:
    """`sample_docs/make_msg_sample.py`, which writes real .msg files (extract-msg's writer)."""
    spec = importlib.util.spec_from_file_location("make_msg_sample", SAMPLES / "make_msg_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_html_only_message_is_read_like_an_html_page(
    extractor: Extractor, tmp_path: Path
) -> None:
    html = "<html><body><h1>Terrace rules</h1><p>No glassware after 18:00.</p></body></html>"
    path = tmp_path / "rules.msg"
    _message_writer().write_msg(path, body=None, html=html)
    doc = extract(extractor, path)
    assert doc.title == SUBJECT and doc.source_type == "msg"
    assert "No glassware after 18:00." in doc.text and "<p>" not in doc.text
    assert_offsets_consistent(doc)


def test_a_message_without_a_body_keeps_its_header_lines(
    extractor: Extractor, tmp_path: Path
) -> None:
    path = tmp_path / "blank.msg"
    _message_writer().write_msg(path, body=None)
    doc = extract(extractor, path)  # its header lines are still text
    assert doc.text.startswith("From: Mateo Rojas") and "Padaria" not in doc.text
