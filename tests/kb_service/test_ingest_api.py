"""Ingestion end to end over HTTP: real files, real model, real Qdrant Edge."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from kb_service.db.database import Wake
from kb_service.db.events import Event
from kb_service.runtime import Runtime
from retrieval.index import PointFilter
from tests.conftest import SAMPLE_DOCS, new_key, wait_for_job
from tests.kb_service.ingest_support import FILES, create_kb, sample, upload


def test_every_supported_type_becomes_cited_chunks(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    response = upload(
        client, headers, kb["id"], [sample(n) for n in FILES], metadata='{"team": "ops"}'
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True and body["data"]["status"] in ("queued", "running", "completed")
    job = wait_for_job(client, body["data"]["id"], headers)
    assert job["status"] == "completed", job
    assert job["progress"]["documents_done"] == len(FILES)

    docs = client.get(
        f"/api/v1/knowledge-bases/{kb['id']}/documents?limit=100", headers=headers
    ).json()
    by_source = {d["source"]: d for d in docs["data"]}
    assert set(by_source) == set(FILES)
    assert {d["source_type"] for d in docs["data"]} == {
        "pdf",
        "docx",
        "pptx",
        "html",
        "markdown",
        "text",
    }
    total_chunks = 0
    for name, doc in by_source.items():
        assert (
            doc["version"] == 1 and doc["status"] == "indexed" and doc["metadata"]["team"] == "ops"
        )
        full = client.get(
            f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc['id']}?include_text=true",
            headers=headers,
        ).json()["data"]
        chunks = client.get(
            f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc['id']}/chunks?limit=100",
            headers=headers,
        ).json()["data"]
        assert chunks and len(chunks) == doc["chunk_count"]
        assert [c["ordinal"] for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert full["text"][chunk["char_start"] : chunk["char_end"]] == chunk["text"]
            assert (chunk["document_id"], chunk["knowledge_base_id"]) == (doc["id"], kb["id"])
            assert chunk["organization_id"] == admin["organization_id"]
            assert (chunk["title"], chunk["source"]) == (doc["title"], name) and chunk["title"]
        if name.endswith((".pdf", ".pptx")):
            assert all(c["page_number"] for c in chunks), name
        if name.endswith((".md", ".docx", ".html")):
            assert any(c["section"] for c in chunks), name
        total_chunks += len(chunks)

    kb_now = client.get(f"/api/v1/knowledge-bases/{kb['id']}", headers=headers).json()["data"]
    assert kb_now["document_count"] == len(FILES) and kb_now["chunk_count"] == total_chunks
    assert runtime.index.count(PointFilter.where(knowledge_base_id=kb["id"])) == total_chunks


def test_json_text_records_and_outbox_event(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    records = json.loads((SAMPLE_DOCS / "faq.json").read_text())["documents"]
    response = client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/ingest", json={"documents": records}, headers=headers
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed"
    assert all(d["status"] == "indexed" for d in job["documents"])
    with runtime.db.session() as session:
        events = session.query(Event).filter(Event.type == "kb.ingest.completed").all()
        assert len(events) == 1
        data = events[0].envelope()
        assert data["id"].startswith("evt_") and data["organization_id"] == admin["organization_id"]
        assert (
            data["data"]["job_id"] == job["id"]
            and data["data"]["chunks_indexed"] == job["progress"]["chunks_indexed"]
        )
        assert data["data"]["documents_total"] == len(records)


def test_delete_document_and_kb_remove_vectors_and_emit_events(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    job = wait_for_job(
        client,
        upload(client, headers, kb["id"], [sample("runbook.md"), sample("notes.txt")]).json()[
            "data"
        ]["id"],
        headers,
    )
    doc_id = job["documents"][0]["document_id"]
    assert runtime.index.count(PointFilter.where(document_id=doc_id)) > 0
    response = client.delete(
        f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc_id}", headers=headers
    )
    assert response.status_code == 200 and response.json()["data"]["deleted"] is True
    assert runtime.index.count(PointFilter.where(document_id=doc_id)) == 0
    assert (
        client.get(
            f"/api/v1/knowledge-bases/{kb['id']}/documents/{doc_id}", headers=headers
        ).status_code
        == 404
    )

    assert client.delete(f"/api/v1/knowledge-bases/{kb['id']}", headers=headers).status_code == 200
    assert runtime.index.count(PointFilter.where(knowledge_base_id=kb["id"])) == 0
    assert client.get(f"/api/v1/knowledge-bases/{kb['id']}", headers=headers).status_code == 404
    with runtime.db.session() as session:
        types = [e.type for e in session.query(Event).order_by(Event.created_at)]
    assert types == ["kb.ingest.completed", "document.deleted", "kb.deleted"]


def test_job_moves_from_queued_to_completed(settings, embedder) -> None:
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        from kb_service.api.app import create_app

        with TestClient(create_app(runtime=runtime)) as client:
            key = new_key(runtime)
            headers = {"X-API-Key": key["key"]}
            kb = create_kb(client, headers)
            job = upload(client, headers, kb["id"], [sample("notes.txt")]).json()["data"]
            assert job["status"] == "queued"
            assert (
                client.get(f"/api/v1/ingest-jobs/{job['id']}", headers=headers).json()["data"][
                    "status"
                ]
                == "queued"
            )
            runtime.start_workers(1)
            runtime.wake(Wake.INGEST)
            done = wait_for_job(client, job["id"], headers)
            assert done["status"] == "completed" and done["started_at"] and done["finished_at"]
    finally:
        runtime.close()


def test_chunking_is_configurable_and_overflow_is_rejected(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    assert 150 <= kb["chunking"]["max_tokens"] <= 210
    assert abs(kb["chunking"]["overlap_tokens"] - 0.15 * kb["chunking"]["max_tokens"]) <= 2
    small = create_kb(client, headers, chunking={"max_tokens": 64, "overlap_tokens": 8})
    assert small["chunking"] == {"max_tokens": 64, "overlap_tokens": 8}
    too_big = client.post(
        "/api/v1/knowledge-bases",
        json={"name": "x", "chunking": {"max_tokens": 1000}},
        headers=headers,
    )
    assert too_big.status_code == 422 and too_big.json()["meta"]["code"] == "validation_error"
    bad_overlap = client.post(
        "/api/v1/knowledge-bases",
        json={"name": "x", "chunking": {"max_tokens": 64, "overlap_tokens": 64}},
        headers=headers,
    )
    assert bad_overlap.status_code == 422


def test_other_organizations_cannot_see_or_ingest(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    kb = create_kb(client, admin["headers"])
    other = {"X-API-Key": new_key(runtime, org="globex")["key"]}
    assert client.get(f"/api/v1/knowledge-bases/{kb['id']}", headers=other).status_code == 404
    r = upload(client, other, kb["id"], [sample("notes.txt")])
    assert r.status_code == 404 and r.json()["meta"]["code"] == "not_found"
    assert client.get("/api/v1/knowledge-bases", headers=other).json()["data"] == []
    reader = {"X-API-Key": new_key(runtime, role="reader")["key"]}
    r = upload(client, reader, kb["id"], [sample("notes.txt")])
    assert r.status_code == 403 and r.json()["meta"]["code"] == "forbidden"


class _DeleteKbOnFirstUpsert:
    """The real index; the knowledge base is deleted (over HTTP) as the job first writes."""

    def __init__(self, index, delete_kb) -> None:  # type: ignore[no-untyped-def]
        self._index, self._delete_kb, self.deleted = index, delete_kb, False

    def upsert(self, points) -> None:  # type: ignore[no-untyped-def]
        self._index.upsert(points)
        if not self.deleted:
            self.deleted = True
            self._delete_kb()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._index, name)


def test_a_knowledge_base_deleted_mid_job_leaves_no_vectors_and_fails_the_job(
    settings, embedder
) -> None:
    from kb_service.api.app import create_app
    from kb_service.workers.ingest.processor import JobProcessor

    runtime = Runtime.build(settings, embedder=embedder)  # no workers: the test runs the job
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            headers = {"X-API-Key": new_key(runtime)["key"]}
            kb = create_kb(client, headers)
            job = upload(client, headers, kb["id"], [sample("runbook.md"), sample("notes.txt")])
            job_id = job.json()["data"]["id"]
            index = _DeleteKbOnFirstUpsert(
                runtime.index,
                lambda: client.delete(f"/api/v1/knowledge-bases/{kb['id']}", headers=headers),
            )
            processor = JobProcessor(
                db=runtime.db,
                queue=runtime.queue,
                pipeline=runtime.pipeline,
                parsers=runtime.processor.preparer.parsers,
                chunk_embedder=runtime.chunk_embedder,
                index=index,
            )
            try:
                assert runtime.queue.claim("test-worker") == job_id
                processor.process(job_id, "test-worker")
            finally:
                processor.close()
            assert index.deleted
            done = client.get(f"/api/v1/ingest-jobs/{job_id}", headers=headers).json()["data"]
            assert done["status"] == "failed" and "deleted" in done["error"]
            assert all(d["status"] == "failed" for d in done["documents"])
            assert runtime.index.count(PointFilter.where(knowledge_base_id=kb["id"])) == 0
            with runtime.db.session() as session:
                types = [e.type for e in session.query(Event).order_by(Event.created_at)]
            assert types == ["kb.deleted", "kb.ingest.failed"]
    finally:
        runtime.close()
