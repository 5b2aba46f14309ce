"""Deletes leave no orphan vectors: a vector delete that fails is finished by the next start.

Real SQLite or PostgreSQL, real Qdrant Edge, the real model. The one fault injected is
in the real index: its next delete raises, as an unreachable Qdrant server would.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kb_service.api.app import create_app
from kb_service.db.content import VectorTombstone
from kb_service.runtime import Runtime, build_index
from kb_service.settings import Settings
from retrieval.embedding import Embedder
from retrieval.errors import IndexUnavailable
from retrieval.index import IndexHit, IndexPoint, PointFilter, VectorIndex
from tests.conftest import make_settings, new_key, postgres_url_or_skip, wait_for_job

API = "/api/v1"


class FailingDeletes(VectorIndex):
    """A real index whose next `failures` deletes raise before reaching it."""

    def __init__(self, inner: VectorIndex, failures: int) -> None:
        self.inner, self.failures, self.dimension = inner, failures, inner.dimension

    def delete(self, where: PointFilter) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise IndexUnavailable("the vector index is unreachable (injected)")
        self.inner.delete(where)

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        self.inner.upsert(points)

    def count(self, where: PointFilter) -> int:
        return self.inner.count(where)

    def search(self, **kwargs: Any) -> list[IndexHit]:
        return self.inner.search(**kwargs)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    overrides = {"database_url": postgres_url_or_skip()} if request.param == "postgresql" else {}
    return make_settings(tmp_path, **overrides)


def _tombstones(runtime: Runtime) -> set[tuple[str, str]]:
    with runtime.db.session() as session:
        rows = session.execute(select(VectorTombstone.scope, VectorTombstone.target_id))
        return {(scope, target) for scope, target in rows}


def _ingest(client: TestClient, headers: dict, kb_id: str, *texts: str) -> list[str]:
    job = client.post(
        f"{API}/knowledge-bases/{kb_id}/ingest",
        json={"documents": [{"text": t, "external_id": t[:12]} for t in texts]},
        headers=headers,
    ).json()["data"]
    done = wait_for_job(client, job["id"], headers)
    assert done["status"] == "completed", done
    return [d["document_id"] for d in done["documents"]]


def _retrieved(client: TestClient, headers: dict, kb_id: str, query: str) -> set[str]:
    found = client.post(
        f"{API}/knowledge-bases/{kb_id}/query",
        json={"query": query, "mode": "retrieve", "top_k": 10},
        headers=headers,
    )
    return {chunk["document_id"] for chunk in found.json()["data"]["chunks"]}


def test_failed_vector_deletes_leave_tombstones_the_next_start_purges(
    settings: Settings, embedder: Embedder
) -> None:
    index = FailingDeletes(build_index(settings, embedder.dimension), failures=0)
    runtime = Runtime.build(settings, embedder=embedder, index=index)
    runtime.start_workers(1)
    headers = {"X-API-Key": new_key(runtime)["key"]}
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        kb = client.post(f"{API}/knowledge-bases", json={"name": "ops"}, headers=headers).json()
        other = client.post(f"{API}/knowledge-bases", json={"name": "hr"}, headers=headers).json()
        kb_id, other_id = kb["data"]["id"], other["data"]["id"]
        kept, doomed, fine = _ingest(
            client,
            headers,
            kb_id,
            "Rollbacks of the payments service need approval from the on-call lead.",
            "Database failovers are rehearsed every quarter by the platform team.",
            "Release trains leave every Tuesday after the change board meets.",
        )
        (in_other,) = _ingest(client, headers, other_id, "Holidays are booked in the HR portal.")

        # a delete whose vectors go: no tombstone is left
        deleted = client.delete(f"{API}/knowledge-bases/{kb_id}/documents/{fine}", headers=headers)
        assert deleted.status_code == 200, deleted.text
        assert _tombstones(runtime) == set()
        assert index.count(PointFilter.where(document_id=fine)) == 0

        # deletes whose vector deletes fail: answered as any delete, tombstoned
        index.failures = 2
        deleted = client.delete(
            f"{API}/knowledge-bases/{kb_id}/documents/{doomed}", headers=headers
        )
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["data"] == {"id": doomed, "deleted": True}
        dropped = client.delete(f"{API}/knowledge-bases/{other_id}", headers=headers)
        assert dropped.status_code == 200, dropped.text
        assert index.failures == 0
        assert _tombstones(runtime) == {("document", doomed), ("knowledge_base", other_id)}
        # the vectors are still in the index, and never shown
        assert index.count(PointFilter.where(document_id=doomed)) > 0
        assert index.count(PointFilter.where(knowledge_base_id=other_id)) > 0
        assert _retrieved(client, headers, kb_id, "database failover rehearsal") == {kept}
        missing = client.get(f"{API}/knowledge-bases/{kb_id}/documents/{doomed}", headers=headers)
        assert missing.status_code == 404
    runtime.close()

    restarted = Runtime.build(settings, embedder=embedder)  # the real index, purged at start
    try:
        assert _tombstones(restarted) == set()
        assert restarted.index.count(PointFilter.where(document_id=doomed)) == 0
        assert restarted.index.count(PointFilter.where(document_id=in_other)) == 0
        assert restarted.index.count(PointFilter.where(knowledge_base_id=other_id)) == 0
        assert restarted.index.count(PointFilter.where(document_id=kept)) > 0  # untouched
    finally:
        restarted.close()
