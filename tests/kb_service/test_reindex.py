"""Re-indexing a knowledge base from its stored text: same points, fresh vectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from ingest.documents import ChunkDraft
from kb_service.cli import main
from kb_service.db.content import Chunk
from kb_service.errors import NotFound
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services import search as search_service
from kb_service.services.keys import get_or_create_organization
from kb_service.services.reindex import reindex_knowledge_base
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool
from retrieval.embedding import Embedder
from retrieval.index import PointFilter, SparseVec
from retrieval.indexing import ChunkOrigin, EmbeddedChunks, build_points
from tests.conftest import SAMPLE_DOCS, make_settings

QUESTION = "How do I reset my VPN access?"


@pytest.fixture
def runtime(tmp_path: Path, embedder: Embedder) -> Iterator[Runtime]:
    rt = Runtime.build(make_settings(tmp_path), embedder=embedder)
    yield rt
    rt.close()


def _top(runtime: Runtime, org_id: str, kb_id: str) -> tuple[str, float]:
    result = search_service.query_knowledge_base(
        runtime.db,
        engine=runtime.query_engine,
        organization_id=org_id,
        kb_id=kb_id,
        request=search_service.QueryRequest(QUESTION, top_k=3, answer=False),
    )
    return result.chunks[0].title, result.chunks[0].similarity


def _scramble(runtime: Runtime, org_id: str, kb_id: str) -> int:
    """Overwrite every point of the KB with random vectors (an outdated embedding)."""
    with runtime.db.session() as session:
        rows = session.scalars(select(Chunk).where(Chunk.knowledge_base_id == kb_id)).all()
        by_doc: dict[str, list[Chunk]] = {}
        for c in rows:
            by_doc.setdefault(c.document_id, []).append(c)
    rng = np.random.default_rng(7)
    for document_id, chunks in by_doc.items():
        drafts = [ChunkDraft(c.ordinal, c.text, c.char_start, c.char_end, 0) for c in chunks]
        dense = rng.normal(size=(len(drafts), 384)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        vectors = EmbeddedChunks(dense, [SparseVec([], []) for _ in drafts])
        origin = ChunkOrigin.document(
            organization_id=org_id,
            knowledge_base_id=kb_id,
            project_id=None,
            document_id=document_id,
            source_type="json",
            created_at=0.0,
        )
        runtime.index.upsert(build_points(origin, drafts, vectors, version=1))
    return len(rows)


def test_reindex_rebuilds_vectors_in_place(runtime: Runtime) -> None:
    org = get_or_create_organization(runtime.db, name="acme")
    kb = knowledge_bases.kb_by_name(
        runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="faq"
    )
    records = json.loads((SAMPLE_DOCS / "faq.json").read_text())["documents"]
    ingestion.submit_ingest(
        runtime.db,
        organization_id=org.id,
        kb_id=kb.id,
        records=[ingestion.TextRecord(**r) for r in records],
    )
    pool = WorkerPool(queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1)
    while pool.run_once(worker_identity()):
        pass
    title, similarity = _top(runtime, org.id, kb.id)
    assert title == QUESTION and similarity > 0.6  # the record's title is embedded with it
    where = PointFilter.where(knowledge_base_id=kb.id)
    points = runtime.index.count(where)

    chunks = _scramble(runtime, org.id, kb.id)
    assert _top(runtime, org.id, kb.id)[1] < 0.3  # random vectors: nothing is close

    result = reindex_knowledge_base(
        runtime.db,
        pipeline=runtime.pipeline,
        chunk_embedder=runtime.chunk_embedder,
        index=runtime.index,
        organization_id=org.id,
        kb_id=kb.id,
    )
    assert (result.documents, result.chunks, result.superseded) == (len(records), chunks, 0)
    assert runtime.index.count(where) == points  # rewritten in place, nothing added
    assert _top(runtime, org.id, kb.id) == pytest.approx((title, similarity), abs=1e-5)

    other = get_or_create_organization(runtime.db, name="globex")
    with pytest.raises(NotFound):
        reindex_knowledge_base(
            runtime.db,
            pipeline=runtime.pipeline,
            chunk_embedder=runtime.chunk_embedder,
            index=runtime.index,
            organization_id=other.id,
            kb_id=kb.id,
        )


def test_reindex_command(
    tmp_path: Path,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(tmp_path)
    monkeypatch.setenv("KB_DATA_DIR", str(settings.storage.data_dir))
    assert main(["ingest", str(SAMPLE_DOCS / "runbook.md"), "--kb", "ops", "--org", "acme"]) == 0
    capsys.readouterr()
    assert main(["reindex", "--kb", "ops", "--org", "acme"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["documents"] == 1 and summary["chunks"] > 0 and summary["superseded"] == 0
    assert main(["reindex", "--kb", "missing", "--org", "acme"]) == 1
