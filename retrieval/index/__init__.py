"""The vector index: one interface, two Qdrant backends (embedded Edge, qdrant-client)."""

from retrieval.index.base import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    FieldMatch,
    FieldRange,
    IndexHit,
    IndexPoint,
    PointFilter,
    SparseVec,
    VectorIndex,
)

__all__ = [
    "DENSE_VECTOR",
    "SPARSE_VECTOR",
    "FieldMatch",
    "FieldRange",
    "IndexHit",
    "IndexPoint",
    "PointFilter",
    "SparseVec",
    "VectorIndex",
]
