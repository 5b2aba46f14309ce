"""Concurrent writers on one document identity: one document, unique versions, no stale chunks.

Real worker threads (four, like `KB_IN_PROCESS_WORKERS=4`), real SQLite or PostgreSQL,
real Qdrant Edge, the real model; uploads arrive from eight threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from retrieval.index import PointFilter
from tests.conftest import make_settings, new_key, postgres_url_or_skip, wait_for_job

API = "/api/v1"
WRITERS = 8


def _text(writer: int) -> str:
    return " ".join(
        f"Paragraph {writer}-{j}: the release train of team {writer} leaves on day {j} "
        f"with build {writer * 100 + j}."
        for j in range(60)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def busy(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> Iterator[Any]:
    overrides = {"database_url": postgres_url_or_skip()} if request.param == "postgresql" else {}
    runtime = Runtime.build(make_settings(tmp_path, **overrides), embedder=embedder)
    runtime.start_workers(4)
    key = new_key(runtime)
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        yield runtime, client, {"X-API-Key": key["key"]}
    runtime.close()


def _at_once(send: Any) -> list[str]:
    job_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS)

    def run(writer: int) -> None:
        barrier.wait()
        response = send(writer)
        assert response.status_code == 202, response.text
        with lock:
            job_ids.append(response.json()["data"]["id"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return job_ids


def _assert_one_consistent_document(runtime: Runtime, client: TestClient, headers: dict, kb: str):
    docs = client.get(f"{API}/knowledge-bases/{kb}/documents?limit=100", headers=headers).json()
    assert len(docs["data"]) == 1, [(d["id"], d["version"]) for d in docs["data"]]
    document = docs["data"][0]
    chunks = client.get(
        f"{API}/knowledge-bases/{kb}/documents/{document['id']}/chunks?limit=100", headers=headers
    ).json()["data"]
    assert len(chunks) == document["chunk_count"]
    # every vector of the document is a chunk of its committed version, and nothing else
    points = runtime.index.count(PointFilter.where(document_id=document["id"]))
    assert points == len(chunks)
    live_text = client.get(
        f"{API}/knowledge-bases/{kb}/documents/{document['id']}?include_text=true", headers=headers
    ).json()["data"]["text"]
    for writer in range(WRITERS):
        hits = client.post(
            f"{API}/knowledge-bases/{kb}/query",
            json={"query": f"release train of team {writer}", "mode": "retrieve", "top_k": 20},
            headers=headers,
        ).json()["data"]["chunks"]
        for hit in hits:
            assert hit["text"] in live_text, "a chunk of a superseded upload was returned"
    return document


def test_concurrent_uploads_of_one_filename_make_one_document(busy: Any) -> None:
    runtime, client, headers = busy
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]

    def send(writer: int) -> Any:
        return client.post(
            f"{API}/knowledge-bases/{kb['id']}/ingest",
            files={"files": ("same.txt", _text(writer).encode(), "text/plain")},
            headers=headers,
        )

    jobs = [wait_for_job(client, j, headers) for j in _at_once(send)]
    assert all(job["status"] == "completed" for job in jobs), jobs
    document = _assert_one_consistent_document(runtime, client, headers, kb["id"])
    versions = sorted(job["documents"][0]["version"] for job in jobs)
    assert versions == list(range(1, WRITERS + 1)), versions  # one version per accepted upload
    assert document["version"] == WRITERS


def test_concurrent_replacements_of_one_document_never_collide(busy: Any) -> None:
    runtime, client, headers = busy
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    first = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": _text(99), "external_id": "policy"}]},
        headers=headers,
    )
    wait_for_job(client, first.json()["data"]["id"], headers)

    def send(writer: int) -> Any:
        return client.post(
            f"{API}/knowledge-bases/{kb['id']}/ingest",
            json={"documents": [{"text": _text(writer), "external_id": "policy"}]},
            headers=headers,
        )

    jobs = [wait_for_job(client, j, headers) for j in _at_once(send)]
    assert all(job["status"] == "completed" for job in jobs), jobs
    document = _assert_one_consistent_document(runtime, client, headers, kb["id"])
    versions = sorted(job["documents"][0]["version"] for job in jobs)
    assert versions == list(range(2, WRITERS + 2)), versions
    assert document["version"] == WRITERS + 1
