"""Chunks into index points: the stored payloads, ids and vectors of documents and meetings.

The expected payloads are written out in full: they are what Qdrant already holds for
every indexed document and meeting, so a change here changes stored data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ingest.documents import ChunkDraft
from retrieval.embedding import Embedder
from retrieval.index import SparseVec
from retrieval.indexing import (
    ChunkEmbedder,
    ChunkOrigin,
    EmbeddedChunks,
    build_points,
    point_id,
)
from retrieval.sparse import SparseEncoder

VECTORS = EmbeddedChunks(
    np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], dtype=np.float32),
    [SparseVec([1], [1.0]), SparseVec([2], [2.0]), SparseVec([3], [3.0])],
)
MEETING = ChunkOrigin.meeting(
    organization_id="org_1", project_id="prj_1", meeting_id="mtg_1", created_at=1767225600.25
)


def exact(payload: dict[str, Any]) -> list[tuple[str, type, Any]]:
    """Keys, value types and values: `1 == 1.0`, but a stored int is not a float."""
    return sorted((k, type(v), v) for k, v in payload.items())


def test_a_document_point_has_the_stored_payload() -> None:
    drafts = [
        ChunkDraft(0, "Alpha beta.", 0, 11, 3, page_number=2, section=("Intro", "Why")),
        ChunkDraft(1, "Gamma.", 13, 19, 2),
    ]
    origin = ChunkOrigin.document(
        organization_id="org_1",
        knowledge_base_id="kb_1",
        project_id=None,
        document_id="doc_1",
        source_type="markdown",
        created_at=1767225600.5,
    )
    points = build_points(origin, drafts, VECTORS, version=3, offset=1)
    assert [p.id for p in points] == [point_id("doc_1", 3, 0), point_id("doc_1", 3, 1)]
    assert points[0].id == "42cada40-a74b-5845-a60a-cc8311339870"  # ids never change
    assert [p.dense for p in points] == [[1.0, 0.0], [0.5, 0.5]]  # rows from `offset` on
    assert [p.sparse for p in points] == VECTORS.sparse[1:]
    assert exact(points[0].payload) == exact(
        {
            "organization_id": "org_1",
            "knowledge_base_id": "kb_1",
            "project_id": None,
            "source_type": "markdown",
            "created_at": 1767225600.5,
            "chunk_id": "chk_42cada40a74b5845a60acc83",
            "document_id": "doc_1",
            "version": 3,
            "ordinal": 0,
            "text": "Alpha beta.",
            "char_start": 0,
            "char_end": 11,
            "page_number": 2,
            "section": ["Intro", "Why"],
        }
    )
    assert points[1].payload["section"] == [] and points[1].payload["page_number"] is None


class _CountingEmbedder(Embedder):
    """The real model, counting the documents it embeds."""

    def __init__(self, model: Embedder) -> None:
        self.model, self.name, self.embedded = model, model.name, 0

    @property
    def dimension(self) -> int:
        return self.model.dimension

    @property
    def max_tokens(self) -> int:
        return self.model.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def test_embedding_reads_the_heading_path_and_sparse_only_skips_the_model(
    embedder: Embedder,
) -> None:
    counting, sparse = _CountingEmbedder(embedder), SparseEncoder()
    chunk_embedder = ChunkEmbedder(embedder=counting, sparse_encoder=sparse)
    drafts = [
        ChunkDraft(0, "Rotate the VPN certificate yearly.", 0, 34, 8, section=("Security",)),
        ChunkDraft(1, "The cafeteria opens at eight.", 36, 65, 7),
    ]
    texts = ["Security\nRotate the VPN certificate yearly.", "The cafeteria opens at eight."]
    vectors = chunk_embedder.embed(drafts)
    assert counting.embedded == 2 and vectors.dense is not None
    assert np.allclose(vectors.dense, embedder.embed_documents(texts), atol=1e-5)
    assert vectors.sparse == [sparse.embed_document(t) for t in texts]
    lexical = chunk_embedder.embed(drafts, dense=False)
    assert counting.embedded == 2  # no model call
    assert lexical.dense is None and lexical.sparse == vectors.sparse
    assert chunk_embedder.window.limit == embedder.max_tokens == 254
