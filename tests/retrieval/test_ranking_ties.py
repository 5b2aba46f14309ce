"""Tied fused scores are broken the same way every time: closer to the query first.

Two real sentences where the one closer in meaning is second by BM25 and the other is
first: RRF gives both exactly the same score. Whatever order the index returns them
in (each insertion order, on both backends), the closer one must come first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from retrieval.embedding import Embedder
from retrieval.index import IndexPoint, VectorIndex
from retrieval.index.edge import EdgeVectorIndex
from retrieval.index.server import QdrantServerIndex
from retrieval.search import ChunkScope, RetrievedChunk, Retriever, SearchMode, ranked
from retrieval.sparse import SparseEncoder
from tests.retrieval.test_search import _uuid

QUERY = "how do I rotate an expiring TLS certificate"
CLOSE = "How to rotate a TLS certificate that is about to run out."
LEXICAL = "TLS rotate expiring certificate canteen lunch menu soup bread"


def _points(embedder: Embedder) -> list[IndexPoint]:
    sparse = SparseEncoder()
    dense = embedder.embed_documents([CLOSE, LEXICAL])
    return [
        IndexPoint(
            id=_uuid(name),
            dense=dense[i].tolist(),
            sparse=sparse.embed_document(text),
            payload={"name": name, "organization_id": "org1", "version": 1, "text": text},
        )
        for i, (name, text) in enumerate([("close", CLOSE), ("lexical", LEXICAL)])
    ]


def _index(backend: str, tmp_path: Path, dimension: int) -> VectorIndex:
    if backend == "edge":
        return EdgeVectorIndex(tmp_path, dimension)
    return QdrantServerIndex(QdrantClient(location=":memory:"), "chunks", dimension)


@pytest.mark.parametrize("backend", ["edge", "client"])
@pytest.mark.parametrize("order", ["close-first", "lexical-first"])
def test_a_fused_tie_goes_to_the_chunk_closer_to_the_query(
    backend: str, order: str, tmp_path: Path, embedder: Embedder
) -> None:
    points = _points(embedder)
    index = _index(backend, tmp_path, len(points[0].dense))
    index.upsert(points if order == "close-first" else points[::-1])
    retriever = Retriever(embedder=embedder, sparse_encoder=SparseEncoder(), index=index)
    scope = ChunkScope(organization_id="org1")
    try:
        dense = retriever.retrieve(QUERY, scope=scope, limit=2, mode=SearchMode.DENSE)
        sparse = retriever.retrieve(QUERY, scope=scope, limit=2, mode=SearchMode.SPARSE)
        # The premise: each mode puts a different sentence first, so RRF ties them.
        assert [c.payload["name"] for c in dense] == ["close", "lexical"]
        assert [c.payload["name"] for c in sparse] == ["lexical", "close"]
        for limit in (1, 2):
            hybrid = retriever.retrieve(QUERY, scope=scope, limit=limit)
            if limit == 2:
                assert hybrid[0].score == hybrid[1].score
            assert hybrid[0].payload["name"] == "close"
    finally:
        index.close()


def test_ranked_orders_by_score_then_similarity_then_id() -> None:
    def chunk(point_id: str, score: float, similarity: float) -> RetrievedChunk:
        return RetrievedChunk(point_id, score, similarity, {})

    chunks = [
        chunk("b", 0.5, 0.2),
        chunk("c", 0.5, 0.2),
        chunk("a", 0.9, 0.1),
        chunk("d", 0.5, 0.4),
    ]
    assert [c.point_id for c in ranked(chunks)] == ["a", "d", "b", "c"]
    assert [c.point_id for c in ranked(chunks[::-1])] == ["a", "d", "b", "c"]
