"""Re-ingesting: unchanged content is a no-op, changed content a new version of one document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb_service.runtime import Runtime
from retrieval.index import PointFilter
from tests.conftest import wait_for_job
from tests.kb_service.ingest_support import create_kb, upload


def test_reingest_unchanged_is_noop_and_changed_replaces(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    first = "Quarterly planning happens in March. " * 40
    doc = {"text": first, "title": "Planning", "external_id": "wiki-42"}
    job1 = wait_for_job(
        client,
        client.post(
            f"/api/v1/knowledge-bases/{kb['id']}/ingest", json={"documents": [doc]}, headers=headers
        ).json()["data"]["id"],
        headers,
    )
    doc_id = job1["documents"][0]["document_id"]
    chunks_v1 = job1["documents"][0]["chunk_count"]

    job2 = wait_for_job(
        client,
        client.post(
            f"/api/v1/knowledge-bases/{kb['id']}/ingest", json={"documents": [doc]}, headers=headers
        ).json()["data"]["id"],
        headers,
    )
    assert job2["status"] == "completed"
    assert (
        job2["documents"][0]["status"] == "unchanged"
        and job2["documents"][0]["document_id"] == doc_id
    )
    assert job2["progress"]["chunks_indexed"] == 0

    changed = {**doc, "text": "Planning moved to April. " * 10}
    job3 = wait_for_job(
        client,
        client.post(
            f"/api/v1/knowledge-bases/{kb['id']}/ingest",
            json={"documents": [changed]},
            headers=headers,
        ).json()["data"]["id"],
        headers,
    )
    assert (
        job3["documents"][0]["status"] == "indexed"
        and job3["documents"][0]["document_id"] == doc_id
    )
    document = client.get(
        f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc_id}", headers=headers
    ).json()["data"]
    assert document["version"] == 2
    new_chunks = job3["documents"][0]["chunk_count"]
    assert new_chunks != chunks_v1
    # only the new version's vectors remain
    assert runtime.index.count(PointFilter.where(document_id=doc_id)) == new_chunks
    assert runtime.index.count(PointFilter.where(document_id=doc_id, version=1)) == 0
    docs = client.get(f"/api/v1/knowledge-bases/{kb['id']}/documents", headers=headers).json()[
        "data"
    ]
    assert len(docs) == 1


def test_same_filename_new_content_is_a_new_version(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    j1 = wait_for_job(
        client,
        upload(client, headers, kb["id"], [("policy.txt", b"Expenses need a receipt.")]).json()[
            "data"
        ]["id"],
        headers,
    )
    j2 = wait_for_job(
        client,
        upload(
            client, headers, kb["id"], [("policy.txt", b"Expenses over 50 EUR need a receipt.")]
        ).json()["data"]["id"],
        headers,
    )
    assert j1["documents"][0]["document_id"] == j2["documents"][0]["document_id"]
    assert j2["documents"][0]["version"] == 2


def test_one_upload_with_a_filename_twice_makes_versions_of_one_document(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    files = [
        ("policy.txt", b"Expenses need a receipt."),
        ("policy.txt", b"Expenses over 50 EUR need a receipt."),
    ]
    job = wait_for_job(
        client, upload(client, headers, kb["id"], files).json()["data"]["id"], headers
    )
    assert job["status"] == "completed", job
    first, second = job["documents"]
    assert first["document_id"] == second["document_id"]
    assert (first["version"], second["version"]) == (1, 2)
    docs = client.get(f"/api/v1/knowledge-bases/{kb['id']}/documents", headers=headers).json()
    [doc] = docs["data"]
    assert doc["version"] == 2
    text = client.get(
        f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc['id']}?include_text=true",
        headers=headers,
    ).json()["data"]["text"]
    assert "50 EUR" in text
    assert runtime.index.count(PointFilter.where(document_id=doc["id"])) == doc["chunk_count"]
