"""Uploading JSON, JSON Lines, spreadsheets and code over HTTP: documents, chunks, citations."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import wait_for_job
from tests.kb_service.ingest_support import create_kb, sample, upload

API = "/api/v1"
NEW_FORMATS = [
    "faq.json",
    "release-notes.jsonl",
    "service-catalog.json",
    "revenue-2026.xlsx",
    "oncall-rota.csv",
    "retry_policy.py",
    "deploy.yaml",
    "incident-followup.eml",
    "security-policy.odt",
]


def documents(client: TestClient, headers: dict[str, str], kb_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/knowledge-bases/{kb_id}/documents?limit=100", headers=headers)
    return list(response.json()["data"])


def document_text(client: TestClient, headers: dict[str, str], kb_id: str, doc_id: str) -> str:
    url = f"{API}/knowledge-bases/{kb_id}/documents/{doc_id}?include_text=true"
    return str(client.get(url, headers=headers).json()["data"]["text"])


def test_new_formats_become_documents_with_exact_citations(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    response = upload(client, headers, kb["id"], [sample(n) for n in NEW_FORMATS])
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed", job
    # faq.json and release-notes.jsonl are records files: one document per record, and
    # the email's attachment is a document of its own
    assert job["progress"]["documents_total"] == len(NEW_FORMATS) - 2 + 3 + 2 + 1

    docs = documents(client, headers, kb["id"])
    by_external = {d["external_id"]: d for d in docs if d["external_id"]}
    assert set(by_external) == {
        "faq-vpn-reset",
        "faq-password-rotation",
        "faq-printer",
        "ledgerline-4.2",
        "ledgerline-4.3",
    }
    vpn = by_external["faq-vpn-reset"]
    assert vpn["title"] == "How do I reset my VPN access?" and vpn["source_type"] == "json"
    assert vpn["metadata"]["source_file"] == "faq.json"
    assert by_external["ledgerline-4.3"]["metadata"]["product"] == "ledgerline"
    by_source = {d["source"]: d for d in docs if not d["external_id"]}
    assert {n: by_source[n]["source_type"] for n in by_source} == {
        "service-catalog.json": "json",
        "revenue-2026.xlsx": "xlsx",
        "oncall-rota.csv": "csv",
        "retry_policy.py": "code",
        "deploy.yaml": "code",
        "incident-followup.eml": "email",
        "incident-followup.eml - lag-timeline.csv": "csv",
        "security-policy.odt": "odt",
    }
    email = by_source["incident-followup.eml"]
    assert email["title"] == "Incident follow-up: Kafka consumer lag on 24 February"
    assert email["metadata"]["email_to"] == "data-platform@quillfeather.example"
    attachment = by_source["incident-followup.eml - lag-timeline.csv"]["metadata"]
    assert attachment["attached_to"] == "incident-followup.eml"
    assert attachment["email_subject"] == email["title"]

    def ask(question: str, source: str, needle: str) -> dict[str, Any]:
        """The citation of `source` that quotes `needle`; every citation's span is exact."""
        r = client.post(
            f"{API}/knowledge-bases/{kb['id']}/query",
            json={"query": question, "top_k": 3},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        citations = r.json()["data"]["citations"]
        for citation in citations:
            text = document_text(client, headers, kb["id"], citation["document_id"])
            assert text[citation["char_start"] : citation["char_end"]] == citation["text"]
        cited = [c for c in citations if c["source"] == source and needle in c["text"]]
        assert cited, r.json()["data"]
        return dict(cited[0])

    tallinn = ask(
        "How many people are in the data platform team in Tallinn?", "revenue-2026.xlsx", "Tallinn"
    )
    assert tallinn["text"].startswith("Row 2: Team: Data platform; Office: Tallinn; People: 14")
    rota = ask("Who is the primary on call in week 2026-W12?", "oncall-rota.csv", "2026-W12")
    assert rota["text"].startswith("Row 4: Week: 2026-W12; Primary: Mateo Rojas")
    ask(
        "What was the root cause of the Kafka consumer lag?",
        "incident-followup.eml",
        "starved the consumers of disk bandwidth",
    )
    ask("Are USB storage devices allowed on laptops?", "security-policy.odt", "USB storage")
    # a record's source is its title (its file is in the metadata)
    leeds = "Which printer should I use in Leeds?"
    ask(leeds, leeds, "LDS-2F-Canon")

    xlsx = by_source["revenue-2026.xlsx"]
    chunks = client.get(
        f"{API}/knowledge-bases/{kb['id']}/documents/{xlsx['id']}/chunks?limit=100",
        headers=headers,
    ).json()["data"]
    assert {tuple(c["section"]) for c in chunks} == {("Q1 2026 revenue",), ("Headcount",)}


def test_bad_files_fail_alone_and_bad_records_are_refused(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    files = [
        ("broken.json", b'{"owner": "Platform team", '),
        ("empty.csv", b"Week,Primary\n"),
        ("bom.csv", "\ufeffTeam;Office\nPayments;Lisbon\n".encode()),
        ("liar.pdf", b'[{"text": "The canteen opens at 8:00."}]'),  # a records file in disguise
    ]
    job = wait_for_job(
        client, upload(client, headers, kb["id"], files).json()["data"]["id"], headers
    )
    assert job["status"] == "partially_failed", job
    errors = {d["filename"] or d["title"]: (d["status"], d["error"]) for d in job["documents"]}
    assert errors["broken.json"][0] == "failed"
    assert "broken.json is not valid JSON" in errors["broken.json"][1]
    assert errors["empty.csv"] == ("failed", "empty.csv contains no text.")
    assert errors["bom.csv"] == ("indexed", None)
    assert sum(1 for d in job["documents"] if d["status"] == "indexed") == 2
    texts = [
        document_text(client, headers, kb["id"], d["id"])
        for d in documents(client, headers, kb["id"])
    ]
    assert sorted(texts) == ["Row 2: Team: Payments; Office: Lisbon", "The canteen opens at 8:00."]

    refused = upload(
        client,
        headers,
        kb["id"],
        [sample("notes.txt"), ("faq.json", b'[{"text": "A"}, {"text": " "}]')],
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["meta"]["code"] == "validation_error"
    assert body["message"] == "faq.json: record 2 has an empty 'text'."
    assert body["meta"]["errors"][0]["field"] == "files.1"
