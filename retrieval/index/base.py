"""The backend-neutral vector index interface.

Each chunk is one point with a dense vector (`dense`, cosine) and a sparse lexical
vector (`sparse`, BM25 term weights; the backend applies the IDF modifier at query
time). A point may be written without its dense vector (live meeting segments, which
the model has not embedded yet): dense searches skip it, sparse searches find it, and
its payload's `embedding_text` says what the model would have read. Payload fields the
service filters on are indexed by every backend:
`organization_id`, `knowledge_base_id`, `document_id`, `project_id`, `source_type`,
`meeting_id` (keywords) and `version`, `created_at` (numbers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"
KEYWORD_FIELDS = (
    "organization_id",
    "knowledge_base_id",
    "document_id",
    "project_id",
    "source_type",
    "meeting_id",
)
NUMERIC_FIELDS = ("version", "created_at")


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexPoint:
    id: str
    dense: Sequence[float] | None  # None: lexical only until re-indexed with a vector
    sparse: SparseVec
    payload: dict[str, Any]


@dataclass(frozen=True)
class IndexHit:
    id: str
    score: float
    payload: dict[str, Any]
    # The stored dense vector, only when the search asked for it (`with_dense=True`).
    dense: tuple[float, ...] | None = None


@dataclass(frozen=True)
class FieldMatch:
    """`key` equals one of `values` (a single value is plain equality)."""

    key: str
    values: tuple[str | int, ...]


@dataclass(frozen=True)
class FieldRange:
    key: str
    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class PointFilter:
    must: tuple[FieldMatch | FieldRange, ...] = ()
    must_not: tuple[FieldMatch, ...] = ()
    # A `should` group: at least one must hold (empty means no constraint).
    any_of: tuple[FieldMatch, ...] = field(default=())

    @staticmethod
    def where(**equals: str | int | None) -> PointFilter:
        """Equality on every given non-None field."""
        return PointFilter(
            must=tuple(FieldMatch(k, (v,)) for k, v in equals.items() if v is not None)
        )

    def and_not(self, key: str, *values: str | int) -> PointFilter:
        return PointFilter(self.must, (*self.must_not, FieldMatch(key, values)), self.any_of)


@dataclass(frozen=True)
class FusionSpec:
    """How the dense and sparse candidate lists are fused (reciprocal rank fusion)."""

    k: int = 60
    dense_weight: float = 1.0
    sparse_weight: float = 1.0
    prefetch_limit: int = 100


class VectorIndex(ABC):
    """Where chunk vectors live. Implementations are thread-safe."""

    dimension: int

    @abstractmethod
    def upsert(self, points: Sequence[IndexPoint]) -> None:
        """Insert or overwrite points by id (ids are deterministic, so retries never duplicate)."""

    @abstractmethod
    def delete(self, where: PointFilter) -> None:
        """Delete every point matching `where` (which must not be empty)."""

    @abstractmethod
    def count(self, where: PointFilter) -> int:
        """Exact number of points matching `where`."""

    @abstractmethod
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
        """Dense, sparse, or (both given) fused search, best first.

        `with_dense` returns each hit's stored dense vector (for MMR and for calibrated
        query similarity when the ranking score is a fused, rank-based one).
        """

    @abstractmethod
    def close(self) -> None:
        """Flush and release the index."""
