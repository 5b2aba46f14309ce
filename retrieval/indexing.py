"""Chunks into index points: vectors, deterministic ids, and the one payload shape.

`ChunkEmbedder.embed(drafts)` turns `ChunkDraft`s into dense (model) and sparse (BM25)
vectors; the model is the bottleneck, so callers batch drafts of many documents or
meetings into one call. `dense=False` computes the sparse vectors only, without a
model call. `build_points` makes the `IndexPoint`s of one version of one document or
meeting: ids are `point_id(origin, version, ordinal)`, so a retried write overwrites
instead of duplicating, and each payload is a `ChunkPayload`, the only place payload
fields are named:

- every point: `organization_id`, `project_id`, `knowledge_base_id`, `document_id`,
  `source_type`, `created_at` (POSIX seconds), `chunk_id`, `version`, `ordinal`, the
  text span (`text`, `char_start`, `char_end` into the extracted text or transcript),
  `page_number` and `section` (the heading path, a list);
- meeting points: `knowledge_base_id`, `document_id` and `page_number` are None and
  `section` is empty (the speaker is in the embedded text, not a heading); they add
  `meeting_id`, `speaker`/`timestamp` of the first segment, `speakers`,
  `first_timestamp`/`last_timestamp` and `segments`, the spans of the segments inside
  the chunk, so a citation of any sentence resolves to its speaker and timestamp;
- points without a dense vector: `embedding_text`, what the model would have read (the
  retriever embeds it to score such a hit).

`build_points` raises `ValueError` when a meeting chunk comes without its segments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.documents import ChunkDraft
from ingest.transcripts import SegmentSpan
from ingest.window import ModelWindow
from retrieval.embedding import Embedder
from retrieval.index import IndexPoint, SparseVec
from retrieval.sparse import SparseEncoder

_POINT_NAMESPACE = uuid.UUID("5b0d6f1e-9a51-4c1b-8d55-6b2f2f0a3c11")
MEETING = "meeting"  # the source_type of meeting points


def point_id(origin_id: str, version: int, ordinal: int) -> str:
    """Deterministic point id of chunk `ordinal` of `version` of a document or meeting."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{origin_id}:{version}:{ordinal}"))


def chunk_id(point: str) -> str:
    """The public `chk_` id of the chunk stored as point `point`."""
    return "chk_" + point.replace("-", "")[:24]


@dataclass(frozen=True)
class EmbeddedChunks:
    """Vectors of a batch of drafts, one row per draft, in order."""

    dense: np.ndarray | None  # None: sparse vectors only (`ChunkEmbedder.embed(dense=False)`)
    sparse: list[SparseVec]

    def dense_row(self, row: int) -> list[float] | None:
        return self.dense[row].tolist() if self.dense is not None else None


class ChunkEmbedder:
    """Dense and sparse vectors of chunk drafts; thread-safe, one per process."""

    def __init__(self, *, embedder: Embedder, sparse_encoder: SparseEncoder) -> None:
        self.embedder = embedder
        self.sparse_encoder = sparse_encoder

    @property
    def window(self) -> ModelWindow:
        """What the model reads, for the chunkers to cut to."""
        return ModelWindow(limit=self.embedder.max_tokens, count=self.embedder.token_counter())

    def embed(self, drafts: Sequence[ChunkDraft], *, dense: bool = True) -> EmbeddedChunks:
        """Vectors of the drafts' `embedding_text`; `dense=False` skips the model call."""
        texts = [d.embedding_text for d in drafts]
        vectors = self.embedder.embed_documents(texts) if dense else None
        sparse = [self.sparse_encoder.embed_document(t) for t in texts]
        return EmbeddedChunks(vectors, sparse)


@dataclass(frozen=True)
class ChunkOrigin:
    """The document or meeting whose points these are: what all of its points share."""

    organization_id: str
    project_id: str | None
    source_type: str  # the document's format ("pdf", "markdown", ...) or "meeting"
    created_at: float  # POSIX seconds, for created_after/created_before filters
    knowledge_base_id: str | None = None
    document_id: str | None = None
    meeting_id: str | None = None

    @classmethod
    def document(
        cls,
        *,
        organization_id: str,
        knowledge_base_id: str,
        project_id: str | None,
        document_id: str,
        source_type: str,
        created_at: float,
    ) -> ChunkOrigin:
        return cls(
            organization_id,
            project_id,
            source_type,
            created_at,
            knowledge_base_id=knowledge_base_id,
            document_id=document_id,
        )

    @classmethod
    def meeting(
        cls, *, organization_id: str, project_id: str | None, meeting_id: str, created_at: float
    ) -> ChunkOrigin:
        return cls(organization_id, project_id, MEETING, created_at, meeting_id=meeting_id)

    @property
    def id(self) -> str:
        """The id point ids derive from: the document's or the meeting's."""
        origin = self.document_id or self.meeting_id
        assert origin is not None, "a chunk origin is a document or a meeting"
        return origin


@dataclass(frozen=True)
class ChunkPayload:
    """The payload of one point (see the module docstring for its fields)."""

    origin: ChunkOrigin
    chunk_id: str
    version: int
    ordinal: int
    text: str
    char_start: int
    char_end: int
    page_number: int | None
    section: tuple[str, ...]
    segments: tuple[SegmentSpan, ...] = ()  # meeting points: at least one
    embedding_text: str | None = None  # only for points without a dense vector

    def to_dict(self) -> dict[str, Any]:
        origin = self.origin
        payload: dict[str, Any] = {
            "organization_id": origin.organization_id,
            "knowledge_base_id": origin.knowledge_base_id,
            "project_id": origin.project_id,
            "source_type": origin.source_type,
            "created_at": origin.created_at,
            "chunk_id": self.chunk_id,
            "document_id": origin.document_id,
            "version": self.version,
            "ordinal": self.ordinal,
            "text": self.text,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "page_number": self.page_number,
            "section": list(self.section),
        }
        if origin.meeting_id is not None:
            segments = self.segments
            payload |= {
                "meeting_id": origin.meeting_id,
                "speaker": segments[0].speaker,
                "timestamp": segments[0].timestamp,
                "speakers": list(dict.fromkeys(s.speaker for s in segments)),
                "first_timestamp": min(s.timestamp for s in segments),
                "last_timestamp": max(s.timestamp for s in segments),
                "segments": [s.to_payload() for s in segments],
            }
        if self.embedding_text is not None:
            payload["embedding_text"] = self.embedding_text
        return payload


def build_points(
    origin: ChunkOrigin,
    drafts: Sequence[ChunkDraft],
    vectors: EmbeddedChunks,
    *,
    version: int,
    offset: int = 0,
    segments: Sequence[Sequence[SegmentSpan]] | None = None,
) -> list[IndexPoint]:
    """Points of `drafts` of `version` of `origin`; their vectors start at row `offset`.

    A meeting's drafts come with `segments`: for each draft, the segment spans in it.
    """
    is_meeting = origin.meeting_id is not None
    if is_meeting and (segments is None or len(segments) != len(drafts) or not all(segments)):
        raise ValueError("every meeting chunk needs the segments inside it")
    points = []
    for i, draft in enumerate(drafts):
        row = offset + i
        dense = vectors.dense_row(row)
        pid = point_id(origin.id, version, draft.ordinal)
        payload = ChunkPayload(
            origin=origin,
            chunk_id=chunk_id(pid),
            version=version,
            ordinal=draft.ordinal,
            text=draft.text,
            char_start=draft.char_start,
            char_end=draft.char_end,
            page_number=None if is_meeting else draft.page_number,
            section=() if is_meeting else draft.section,
            segments=tuple(segments[i]) if segments is not None else (),
            embedding_text=draft.embedding_text if dense is None else None,
        )
        points.append(IndexPoint(pid, dense, vectors.sparse[row], payload.to_dict()))
    return points
