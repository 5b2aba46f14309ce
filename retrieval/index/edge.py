"""Embedded backend: Qdrant Edge (the Qdrant engine in-process, on disk under KB_DATA_DIR).

The only module that imports `qdrant_edge` for storage. A shard directory can be open
in one process at a time; a second opener gets `IndexUnavailable` with a sentence
saying so (Qdrant Edge holds a lock on its write-ahead log).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from retrieval.errors import IndexUnavailable
from retrieval.index.base import (
    DENSE_VECTOR,
    KEYWORD_FIELDS,
    NUMERIC_FIELDS,
    SPARSE_VECTOR,
    FieldMatch,
    FieldRange,
    FusionSpec,
    IndexHit,
    IndexPoint,
    PointFilter,
    SparseVec,
    VectorIndex,
)


def _config(dimension: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


def _condition(cond: FieldMatch | FieldRange) -> qe.FieldCondition:
    if isinstance(cond, FieldRange):
        return qe.FieldCondition(key=cond.key, range=qe.RangeFloat(gte=cond.gte, lte=cond.lte))
    if len(cond.values) == 1:
        return qe.FieldCondition(key=cond.key, match=qe.MatchValue(cond.values[0]))
    return qe.FieldCondition(key=cond.key, match=qe.MatchAny(list(cond.values)))  # type: ignore[arg-type]


def to_edge_filter(where: PointFilter) -> qe.Filter | None:
    if not (where.must or where.must_not or where.any_of):
        return None
    return qe.Filter(
        must=[_condition(c) for c in where.must] or None,
        must_not=[_condition(c) for c in where.must_not] or None,
        should=[_condition(c) for c in where.any_of] or None,
    )


def _vectors(point: IndexPoint) -> dict[str, Any]:
    vectors: dict[str, Any] = {
        SPARSE_VECTOR: qe.SparseVector(indices=point.sparse.indices, values=point.sparse.values)
    }
    if point.dense is not None:
        vectors[DENSE_VECTOR] = list(map(float, point.dense))
    return vectors


def _dense_of(vector: Any) -> tuple[float, ...] | None:
    if isinstance(vector, dict):
        vector = vector.get(DENSE_VECTOR)
    return tuple(vector) if vector is not None else None


class EdgeVectorIndex(VectorIndex):
    """Vectors in a Qdrant Edge shard at `path`."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        path.mkdir(parents=True, exist_ok=True)
        try:
            if any(path.iterdir()):
                self._shard = qe.EdgeShard.load(str(path), _config(dimension))
            else:
                self._shard = qe.EdgeShard.create(str(path), _config(dimension))
                for name in KEYWORD_FIELDS:
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword)
                    )
                for name in NUMERIC_FIELDS:
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Float)
                    )
        except Exception as exc:  # the binding raises plain exceptions
            if "WouldBlock" in str(exc):
                raise IndexUnavailable(
                    f"The embedded vector index at {path} is open in another process "
                    "(a running `kb-service serve`?). Stop it, or point KB_DATA_DIR elsewhere."
                ) from None
            raise IndexUnavailable(
                f"Cannot open the embedded vector index at {path}: {exc}"
            ) from exc

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        edge_points = [
            qe.Point(
                id=p.id,
                vector=_vectors(p),
                payload=p.payload,
            )
            for p in points
        ]
        with self._lock:
            self._shard.update(qe.UpdateOperation.upsert_points(edge_points))

    def delete(self, where: PointFilter) -> None:
        edge_filter = to_edge_filter(where)
        if edge_filter is None:
            raise ValueError("refusing to delete with an empty filter")
        with self._lock:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(edge_filter))

    def count(self, where: PointFilter) -> int:
        return int(self._shard.count(qe.CountRequest(exact=True, filter=to_edge_filter(where))))

    def search(
        self,
        *,
        where: PointFilter,
        limit: int,
        dense: Sequence[float] | None = None,
        sparse: SparseVec | None = None,
        fusion: FusionSpec | None = None,
        with_dense: bool = False,
    ) -> list[IndexHit]:
        edge_filter = to_edge_filter(where)
        queries: list[Any] = []
        if dense is not None:
            queries.append(qe.Query.Nearest(list(map(float, dense)), using=DENSE_VECTOR))
        if sparse is not None:
            if not sparse.indices:
                if dense is None:
                    return []
            else:
                vector = qe.SparseVector(indices=sparse.indices, values=sparse.values)
                queries.append(qe.Query.Nearest(vector, using=SPARSE_VECTOR))
        if not queries:
            raise ValueError("search needs a dense or a sparse query vector")
        if len(queries) == 1:
            request = qe.QueryRequest(
                limit=limit,
                query=queries[0],
                filter=edge_filter,
                with_payload=True,
                with_vector=[DENSE_VECTOR] if with_dense else False,
            )
        else:
            spec = fusion or FusionSpec()
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[
                    qe.Prefetch(query=q, limit=max(spec.prefetch_limit, limit), filter=edge_filter)
                    for q in queries
                ],
                # the stubs type Fusion.Rrf as a nested class, not a Fusion
                query=qe.Fusion.Rrf(k=spec.k, weights=[spec.dense_weight, spec.sparse_weight]),  # type: ignore[arg-type]
                filter=edge_filter,
                with_payload=True,
                with_vector=[DENSE_VECTOR] if with_dense else False,
            )
        return [
            IndexHit(
                id=str(p.id),
                score=float(p.score),
                payload=dict(p.payload or {}),
                dense=_dense_of(p.vector) if with_dense else None,
            )
            for p in self._shard.query(request)
        ]

    def close(self) -> None:
        with self._lock:
            self._shard.flush()
            self._shard.close()
