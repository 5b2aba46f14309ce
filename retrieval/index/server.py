"""Scale-out backend: a Qdrant server or cluster through `qdrant-client`.

The only module that imports `qdrant_client`. Tests run it against qdrant-client's
local mode (`location=":memory:"` or `path=`), which speaks the same client API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

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


def _condition(cond: FieldMatch | FieldRange) -> qm.FieldCondition:
    if isinstance(cond, FieldRange):
        return qm.FieldCondition(key=cond.key, range=qm.Range(gte=cond.gte, lte=cond.lte))
    if len(cond.values) == 1:
        return qm.FieldCondition(key=cond.key, match=qm.MatchValue(value=cond.values[0]))
    return qm.FieldCondition(key=cond.key, match=qm.MatchAny(any=list(cond.values)))  # type: ignore[arg-type]


def to_client_filter(where: PointFilter) -> qm.Filter | None:
    if not (where.must or where.must_not or where.any_of):
        return None
    return qm.Filter(
        must=[_condition(c) for c in where.must] or None,  # type: ignore[arg-type]
        must_not=[_condition(c) for c in where.must_not] or None,  # type: ignore[arg-type]
        should=[_condition(c) for c in where.any_of] or None,  # type: ignore[arg-type]
    )


def _vectors(point: IndexPoint) -> dict[str, Any]:
    vectors: dict[str, Any] = {
        SPARSE_VECTOR: qm.SparseVector(indices=point.sparse.indices, values=point.sparse.values)
    }
    if point.dense is not None:
        vectors[DENSE_VECTOR] = list(map(float, point.dense))
    return vectors


def _dense_of(vector: Any) -> tuple[float, ...] | None:
    if isinstance(vector, dict):
        vector = vector.get(DENSE_VECTOR)
    return tuple(float(x) for x in vector) if isinstance(vector, list) else None


class QdrantServerIndex(VectorIndex):
    """Vectors in collection `collection` of a Qdrant server (or qdrant-client local mode)."""

    def __init__(self, client: QdrantClient, collection: str, dimension: int) -> None:
        self.dimension = dimension
        self._client = client
        self._collection = collection
        try:
            if not client.collection_exists(collection):
                self._create_collection()
        except Exception as exc:  # network errors come in many types
            raise IndexUnavailable(
                f"Cannot reach Qdrant for collection {collection!r}: {exc}"
            ) from exc

    @classmethod
    def connect(cls, *, url: str, api_key: str | None, collection: str, dimension: int):
        return cls(QdrantClient(url=url, api_key=api_key, timeout=30), collection, dimension)

    def _create_collection(self) -> None:
        self._client.create_collection(
            self._collection,
            vectors_config={
                DENSE_VECTOR: qm.VectorParams(size=self.dimension, distance=qm.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        for name in KEYWORD_FIELDS:
            self._client.create_payload_index(self._collection, name, qm.PayloadSchemaType.KEYWORD)
        for name in NUMERIC_FIELDS:
            self._client.create_payload_index(self._collection, name, qm.PayloadSchemaType.FLOAT)

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        self._client.upsert(
            self._collection,
            points=[
                qm.PointStruct(
                    id=p.id,
                    vector=_vectors(p),
                    payload=p.payload,
                )
                for p in points
            ],
            wait=True,
        )

    def delete(self, where: PointFilter) -> None:
        client_filter = to_client_filter(where)
        if client_filter is None:
            raise ValueError("refusing to delete with an empty filter")
        self._client.delete(
            self._collection, points_selector=qm.FilterSelector(filter=client_filter), wait=True
        )

    def count(self, where: PointFilter) -> int:
        result = self._client.count(
            self._collection, count_filter=to_client_filter(where), exact=True
        )
        return int(result.count)

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
        client_filter = to_client_filter(where)
        queries: list[tuple[Any, str]] = []
        if dense is not None:
            queries.append((list(map(float, dense)), DENSE_VECTOR))
        if sparse is not None and sparse.indices:
            queries.append(
                (qm.SparseVector(indices=sparse.indices, values=sparse.values), SPARSE_VECTOR)
            )
        if not queries:
            if sparse is not None:
                return []
            raise ValueError("search needs a dense or a sparse query vector")
        if len(queries) == 1:
            query, using = queries[0]
            response = self._client.query_points(
                self._collection,
                query=query,
                using=using,
                query_filter=client_filter,
                limit=limit,
                with_payload=True,
                with_vectors=[DENSE_VECTOR] if with_dense else False,
            )
        else:
            spec = fusion or FusionSpec()
            response = self._client.query_points(
                self._collection,
                prefetch=[
                    qm.Prefetch(
                        query=q,
                        using=u,
                        filter=client_filter,
                        limit=max(spec.prefetch_limit, limit),
                    )
                    for q, u in queries
                ],
                query=qm.RrfQuery(
                    rrf=qm.Rrf(k=spec.k, weights=[spec.dense_weight, spec.sparse_weight])
                ),
                query_filter=client_filter,
                limit=limit,
                with_payload=True,
                with_vectors=[DENSE_VECTOR] if with_dense else False,
            )
        return [
            IndexHit(
                id=str(p.id),
                score=float(p.score),
                payload=dict(p.payload or {}),
                dense=_dense_of(p.vector) if with_dense else None,
            )
            for p in response.points
        ]

    def close(self) -> None:
        self._client.close()
