"""Email messages: header lines and body as the document, attachments listed apart."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from ingest.documents import SourceFile
from ingest.email_files import email_attachments
from ingest.errors import CorruptDocument
from ingest.extract import Extractor
from tests.ingest.test_extract import SAMPLES, assert_offsets_consistent, extract


def test_the_sample_email_is_a_document_with_its_people_in_metadata(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "incident-followup.eml")
    assert doc.source_type == "email"
    assert doc.title == "Incident follow-up: Kafka consumer lag on 24 February"
    assert doc.metadata["email_from"] == "Priya Nair <priya.nair@quillfeather.example>"
    assert doc.metadata["email_cc"] == "Kadri Tamm <kadri.tamm@quillfeather.example>"
    assert doc.metadata["email_attachments"] == ["lag-timeline.csv"]
    assert_offsets_consistent(doc)
    assert doc.text.startswith("From: Priya Nair")
    assert "starved the consumers of disk bandwidth for 48 minutes." in doc.text
    assert "VGltZSxFdmVudA" not in doc.text  # the attachment is not part of the message
    subject, attachments = email_attachments(
        (SAMPLES / "incident-followup.eml").read_bytes(), "incident-followup.eml"
    )
    assert subject == doc.title
    assert [(a.filename, a.media_type) for a in attachments] == [("lag-timeline.csv", "text/csv")]
    assert attachments[0].content.startswith(b"Time,Event\n02:00,")


def test_html_only_email_forwarded_message_and_undecodable_subject(
    extractor: Extractor,
) -> None:
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "ops@example.com", "Original"
    inner.set_content("The first report.")
    outer = EmailMessage()
    outer["From"] = "Ana <ana@example.com>"
    outer["Subject"] = "Fwd: report"
    outer.set_content("<html><body><h1>Status</h1><p>All green today.</p></body></html>", "html")
    outer.add_attachment(inner)
    data = bytes(outer).replace(b"Subject: Fwd: report", b"Subject: Fwd: \xff report")
    doc = extractor.run(SourceFile("fwd.eml", data))
    assert doc.title == "Fwd: \ufffd report"  # stored safely, never a lone surrogate
    assert "All green today." in doc.text and "The first report." not in doc.text
    _, attachments = email_attachments(data, "fwd.eml")
    assert attachments[0].filename == "attachment-1.eml"
    assert extractor.run(SourceFile("fwd.eml", attachments[0].content)).title == "Original"


def test_bytes_without_message_headers_are_not_an_email(extractor: Extractor) -> None:
    with pytest.raises(CorruptDocument, match=r"notes\.eml is not an email message"):
        extractor.run(SourceFile("notes.eml", b"just a line of text\n"))
