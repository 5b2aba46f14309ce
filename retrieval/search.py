"""Query-time retrieval: hybrid (dense + BM25 fused in Qdrant), dense-only or sparse-only.

`Retriever.retrieve` embeds the query (MiniLM for `dense`, BM25 term ids for `sparse`),
runs one index query under a `ChunkScope` filter, and returns `RetrievedChunk`s best
first, each with its query cosine similarity (`similarity`, from the stored dense
vector, or from embedding the text of a point stored without one) so that callers can
apply a calibrated relevance threshold even when the ranking score is RRF's rank-based
one. With `diversify=True` the candidates are re-ranked by maximal marginal relevance
(MMR) over their dense vectors.

Fusion defaults (`DEFAULT_FUSION`: RRF k=10, dense and sparse weight 1.0) come from a
sweep on BEIR SciFact (`python -m benchmarks.scifact_eval --sweep`). Its 300 test
queries are also the figure we report, so that figure is optimistic by whatever the
choice overfits; the sweep therefore also scores the 809 train queries. On train, every
k in 5..20 with equal weights is within 0.002 nDCG@10 of the best cell (0.7297), k=60
(the RRF paper's value) loses 0.007 and Qdrant's default k=2 loses 0.002; test agrees
(k=10: 0.7259). Unequal weights never help on both splits, so the weights are equal.

A scope that matches nothing (an empty id list) returns nothing without querying: a
filter must never widen into "everything". Failure modes: index errors propagate
(`IndexUnavailable` or the backend's exception); an empty query is the caller's bug.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from retrieval.embedding import Embedder
from retrieval.index import FieldMatch, FieldRange, IndexHit, PointFilter, VectorIndex
from retrieval.index.base import FusionSpec
from retrieval.sparse import SparseEncoder

# Chosen on SciFact (benchmarks/scifact_eval.py --sweep); see the module docstring.
# Hits fetched beyond the limit so that ties straddling it are broken by `ranked`, not
# by the order the index happened to return them in.
TIE_MARGIN = 8
DEFAULT_FUSION = FusionSpec(k=10, dense_weight=1.0, sparse_weight=1.0, prefetch_limit=100)
DEFAULT_MMR_LAMBDA = 0.7


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "sparse"


@dataclass(frozen=True)
class ChunkScope:
    """Which points a search may return. `None` means unconstrained; `()` matches nothing.

    `organization_id` is always required: no search ever crosses organizations.
    `any_of` holds alternatives at least one of which must hold (the meetings kind
    plugs in here: "in these knowledge bases, or one of these meetings").
    """

    organization_id: str
    knowledge_base_ids: tuple[str, ...] | None = None
    document_ids: tuple[str, ...] | None = None
    source_types: tuple[str, ...] | None = None
    created_after: float | None = None
    created_before: float | None = None
    excluded_source_types: tuple[str, ...] = ()
    any_of: tuple[FieldMatch, ...] = ()

    @property
    def matches_nothing(self) -> bool:
        return any(
            ids is not None and not ids
            for ids in (self.knowledge_base_ids, self.document_ids, self.source_types)
        ) or (
            self.created_after is not None
            and self.created_before is not None
            and self.created_after > self.created_before
        )

    def to_point_filter(self) -> PointFilter:
        must: list[FieldMatch | FieldRange] = [
            FieldMatch("organization_id", (self.organization_id,))
        ]
        for key, ids in (
            ("knowledge_base_id", self.knowledge_base_ids),
            ("document_id", self.document_ids),
            ("source_type", self.source_types),
        ):
            if ids is not None:
                must.append(FieldMatch(key, tuple(dict.fromkeys(ids))))
        if self.created_after is not None or self.created_before is not None:
            must.append(FieldRange("created_at", gte=self.created_after, lte=self.created_before))
        must_not = (
            (FieldMatch("source_type", self.excluded_source_types),)
            if self.excluded_source_types
            else ()
        )
        return PointFilter(must=tuple(must), must_not=must_not, any_of=self.any_of)


@dataclass(frozen=True)
class RetrievedChunk:
    """One hit: ranking score (mode-dependent), cosine similarity to the query, payload."""

    point_id: str
    score: float
    similarity: float
    payload: dict[str, Any]
    dense: tuple[float, ...] | None = field(default=None, repr=False)


@dataclass
class RetrievalTimings:
    """Milliseconds spent per stage of the last retrieval (for Server-Timing)."""

    embed_ms: float = 0.0
    index_ms: float = 0.0
    rerank_ms: float = 0.0


class Retriever:
    """Stateless query front of the index; cheap to build, safe to share across threads."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        sparse_encoder: SparseEncoder,
        index: VectorIndex,
        fusion: FusionSpec = DEFAULT_FUSION,
        mmr_lambda: float = DEFAULT_MMR_LAMBDA,
    ) -> None:
        if fusion.k < 1 or fusion.prefetch_limit < 1:
            raise ValueError("RRF k and prefetch_limit must be positive")
        if not 0.0 <= mmr_lambda <= 1.0:
            raise ValueError("mmr_lambda must be within [0, 1]")
        self.embedder = embedder
        self.sparse_encoder = sparse_encoder
        self.index = index
        self.fusion = fusion
        self.mmr_lambda = mmr_lambda

    def retrieve(
        self,
        query: str,
        *,
        scope: ChunkScope,
        limit: int,
        mode: SearchMode = SearchMode.HYBRID,
        diversify: bool = False,
        timings: RetrievalTimings | None = None,
    ) -> list[RetrievedChunk]:
        """The `limit` best chunks for `query` within `scope`, best first."""
        timings = timings if timings is not None else RetrievalTimings()
        if limit < 1 or scope.matches_nothing:
            return []
        started = time.perf_counter()
        dense = self.embedder.embed_query(query)
        sparse = self.sparse_encoder.embed_query(query) if mode != SearchMode.DENSE else None
        timings.embed_ms = (time.perf_counter() - started) * 1000
        if mode == SearchMode.SPARSE and sparse is not None and not sparse.indices:
            return []  # only stop words: a lexical search has nothing to match
        fetch = max(limit * 3, 30) if diversify else limit
        started = time.perf_counter()
        hits = self.index.search(
            where=scope.to_point_filter(),
            limit=fetch + TIE_MARGIN,
            dense=dense if mode != SearchMode.SPARSE else None,
            sparse=sparse,
            fusion=self.fusion,
            with_dense=True,
        )
        timings.index_ms = (time.perf_counter() - started) * 1000
        chunks = ranked(self._with_similarity(hits, dense, timings))[:fetch]
        started = time.perf_counter()
        if diversify:
            chunks = mmr(chunks, limit=limit, lambda_=self.mmr_lambda)
        timings.rerank_ms = (time.perf_counter() - started) * 1000
        return chunks[:limit]

    def _with_similarity(
        self, hits: Sequence[IndexHit], query: Sequence[float], timings: RetrievalTimings
    ) -> list[RetrievedChunk]:
        """Chunks with their cosine similarity to the query.

        A hit stored without a dense vector (a live meeting segment, found lexically) is
        embedded here from its `embedding_text`, so its similarity is as real as the
        others'.
        """
        missing = [i for i, hit in enumerate(hits) if hit.dense is None]
        dense = [hit.dense for hit in hits]
        if missing:
            texts = [
                str(hits[i].payload.get("embedding_text") or hits[i].payload.get("text", ""))
                for i in missing
            ]
            started = time.perf_counter()
            vectors = self.embedder.embed_documents(texts)
            timings.embed_ms += (time.perf_counter() - started) * 1000
            for i, vector in zip(missing, vectors, strict=True):
                dense[i] = tuple(float(x) for x in vector)
        query_vector = np.asarray(query, dtype=np.float32)
        return [
            RetrievedChunk(
                hit.id,
                hit.score,
                float(np.dot(np.asarray(vector, dtype=np.float32), query_vector)),
                hit.payload,
                vector,
            )
            for hit, vector in zip(hits, dense, strict=True)
        ]


def ranked(chunks: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
    """Best first, ties broken the same way every time: closer to the query, then by id.

    Fused scores tie often (RRF gives a chunk ranked 1st and 3rd the score of one ranked
    3rd and 1st), and the index returns tied hits in no fixed order, so without this the
    same query could cite different passages from one run to the next.
    """
    return sorted(chunks, key=lambda c: (-c.score, -c.similarity, c.point_id))


def mmr(chunks: Sequence[RetrievedChunk], *, limit: int, lambda_: float) -> list[RetrievedChunk]:
    """Greedy maximal marginal relevance over the chunks' dense vectors.

    Relevance is the ranking score scaled to [0, 1] over the candidates (so fused,
    dense and BM25 scores all work); redundancy is the highest cosine similarity to an
    already selected chunk. `lambda_=1` keeps the input order.
    """
    candidates = [c for c in chunks if c.dense is not None]
    if len(candidates) != len(chunks) or len(chunks) <= 1:
        return list(chunks[:limit])
    vectors = np.asarray([c.dense for c in candidates], dtype=np.float32)
    scores = np.asarray([c.score for c in candidates], dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    relevance = (scores - low) / (high - low) if high > low else np.ones_like(scores)
    similarity = vectors @ vectors.T
    selected: list[int] = []
    redundancy = np.full(len(candidates), -math.inf)
    remaining = list(range(len(candidates)))  # a list: ties go to the better-ranked chunk
    while remaining and len(selected) < limit:
        best = max(
            remaining,
            key=lambda i: (
                lambda_ * relevance[i] - (1 - lambda_) * (redundancy[i] if selected else 0.0)
            ),
        )
        selected.append(best)
        remaining.remove(best)
        redundancy = np.maximum(redundancy, similarity[best])
    return [candidates[i] for i in selected]
