"""Uploading scans, images and Outlook messages over HTTP: documents, pages, citations."""

from __future__ import annotations

import os
import shutil
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import wait_for_job
from tests.kb_service.ingest_support import create_kb, sample, upload
from tests.kb_service.test_ingest_formats import document_text, documents

API = "/api/v1"
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None and os.environ.get("CI") != "true",
    reason="tesseract is not installed (scripts/setup.sh installs it when run as root)",
)


def ask(client: TestClient, headers: dict[str, str], kb_id: str, question: str) -> list[dict]:
    """The query's citations, each checked to quote the document's text exactly."""
    r = client.post(
        f"{API}/knowledge-bases/{kb_id}/query",
        json={"query": question, "top_k": 3},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    citations: list[dict[str, Any]] = r.json()["data"]["citations"]
    for citation in citations:
        text = document_text(client, headers, kb_id, citation["document_id"])
        assert text[citation["char_start"] : citation["char_end"]] == citation["text"]
    return citations


@needs_tesseract
def test_scans_and_images_are_read_and_cited_by_page(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    names = ["facilities-minutes.pdf", "whiteboard-handover.png", "handbook.pdf"]
    files = [*(sample(n) for n in names), ("scanned.pdf", (sample("bad/scanned.pdf")[1]))]
    job = wait_for_job(
        client, upload(client, headers, kb["id"], files).json()["data"]["id"], headers
    )
    assert job["status"] == "completed", job

    by_source = {d["source"]: d for d in documents(client, headers, kb["id"])}
    assert by_source["facilities-minutes.pdf"]["metadata"]["ocr_pages"] == [2]
    assert by_source["scanned.pdf"]["metadata"]["ocr_pages"] == [1]
    assert by_source["whiteboard-handover.png"]["source_type"] == "image"
    assert by_source["whiteboard-handover.png"]["title"] == "Warehouse shift handover"
    assert "ocr_pages" not in by_source["handbook.pdf"]["metadata"]

    terrace = ask(client, headers, kb["id"], "When does the Lisbon rooftop terrace open?")
    cited = [c for c in terrace if "opens on 1 April" in c["text"]]
    assert cited and cited[0]["source"] == "facilities-minutes.pdf"
    assert cited[0]["page_number"] == 2  # the scanned page, not the text-layer page 1
    printers = ask(client, headers, kb["id"], "Where are the spare badge printers kept?")
    locker = [c for c in printers if "locker 7" in c["text"]]
    assert locker and locker[0]["source"] == "whiteboard-handover.png"
    assert locker[0]["page_number"] == 1
    fare = ask(client, headers, kb["id"], "How much was the taxi fare from Lisbon airport?")
    assert any("38.50 EUR" in c["text"] and c["source"] == "scanned.pdf" for c in fare)


def test_an_outlook_message_and_its_attachment_become_linked_documents(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    response = upload(client, headers, kb["id"], [sample("room-booking.msg")])
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed", job
    assert job["progress"]["documents_total"] == 2

    by_source = {d["source"]: d for d in documents(client, headers, kb["id"])}
    message = by_source["room-booking.msg"]
    assert message["source_type"] == "msg"
    assert message["title"] == "Room booking: Lisbon rooftop terrace for the payments offsite"
    assert message["metadata"]["email_from"] == "Mateo Rojas <mateo.rojas@quillfeather.example>"
    assert message["metadata"]["email_cc"] == "Ines Carvalho <ines.carvalho@quillfeather.example>"
    assert message["metadata"]["email_attachments"] == ["offsite-agenda.txt"]
    agenda = by_source["room-booking.msg - offsite-agenda.txt"]
    assert agenda["metadata"]["attached_to"] == "room-booking.msg"
    assert agenda["metadata"]["email_subject"] == message["title"]

    catering = ask(client, headers, kb["id"], "Who is catering the payments offsite?")
    assert any(
        "Padaria Estrela" in c["text"] and c["source"] == "room-booking.msg" for c in catering
    )
    fraud = ask(client, headers, kb["id"], "When are the fraud rules for Brazil discussed?")
    assert any(c["source"] == "room-booking.msg - offsite-agenda.txt" for c in fraud)
    assert "16:15 Fraud rules" in document_text(client, headers, kb["id"], agenda["id"])


def test_image_attachments_of_an_email_are_listed_not_ingested(
    client: TestClient, admin: dict
) -> None:
    message = EmailMessage()
    message["From"], message["Subject"] = "Ana <ana@example.com>", "Visitor parking"
    message.set_content("Visitors park on level -2 of the Lisbon garage.")
    png = sample("whiteboard-handover.png")[1]
    message.add_attachment(png, maintype="image", subtype="png", filename="signature.png")
    message.add_attachment(
        b"Level,Spaces\n-2,14\n", maintype="text", subtype="csv", filename="spaces.csv"
    )
    headers = admin["headers"]
    kb = create_kb(client, headers)
    response = upload(client, headers, kb["id"], [("parking.eml", bytes(message))])
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed", job
    by_source = {d["source"]: d for d in documents(client, headers, kb["id"])}
    assert set(by_source) == {"parking.eml", "parking.eml - spaces.csv"}
    assert by_source["parking.eml"]["metadata"]["email_attachments"] == [
        "signature.png",
        "spaces.csv",
    ]
