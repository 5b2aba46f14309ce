"""Liveness: which vector hits SQL (the source of truth) says may be shown.

Each point kind has one `LivenessCheck` in `LIVENESS`, keyed by `point_kind(payload)`;
points of a kind without a check are never shown. For documents: the hit's point id is
one of the committed chunk rows of a document that exists in the caller's organization
with status `indexed`. Chunk rows are swapped in the transaction that makes a version
live, and point ids are deterministic per (document, version, ordinal), so a point of
any other version, or of a version whose commit lost to a newer one, is never shown,
whatever is still in the vector index (cleanup runs after the commit). Meetings: see
`_live_meetings` (the meeting exists and the point's version is its `index_version`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.content import Chunk, Document
from kb_service.db.meetings import Meeting
from kb_service.statuses import DocumentStatus
from retrieval.search import RetrievedChunk


@dataclass(frozen=True)
class LiveSource:
    """What SQL says about a live hit's source: shown with the chunk and its citations."""

    title: str
    source: str
    source_type: str
    extra: dict[str, Any] = field(default_factory=dict)


LivenessCheck = Callable[[Session, str, Sequence[RetrievedChunk]], dict[str, LiveSource]]


def _live_documents(
    session: Session, organization_id: str, hits: Sequence[RetrievedChunk]
) -> dict[str, LiveSource]:
    points = {h.point_id for h in hits}
    # By the chunk's point id only (an index lookup per hit), the organization and
    # status checked here: given more conditions, SQLite without statistics may walk
    # the organization's whole index instead.
    rows = session.execute(
        select(
            Chunk.point_id,
            Chunk.document_id,
            Document.title,
            Document.source,
            Document.organization_id,
            Document.status,
        )
        .join(Document, Document.id == Chunk.document_id)
        .where(Chunk.point_id.in_(points))
    ).all()
    live = {
        point: (document_id, title, source)
        for point, document_id, title, source, org_id, status in rows
        if org_id == organization_id and status == DocumentStatus.INDEXED
    }
    result = {}
    for hit in hits:
        row = live.get(hit.point_id)
        if row is not None and row[0] == hit.payload.get("document_id"):
            result[hit.point_id] = LiveSource(
                row[1], row[2], str(hit.payload.get("source_type") or "")
            )
    return result


def point_kind(payload: dict[str, Any]) -> str:
    """Which liveness check a point answers to ("meeting" points carry `meeting_id`)."""
    return "meeting" if payload.get("meeting_id") else "document"


# meeting points are live while their meeting exists (in the caller's
# organization) and the point's `version` is the meeting's `index_version`: live
# segment points until the re-chunked transcript's version is flipped in SQL.
_MEETING_FIELDS = (
    "meeting_id",
    "speaker",
    "timestamp",
    "speakers",
    "first_timestamp",
    "last_timestamp",
    "segments",  # per-segment spans: a citation resolves its sentence's speaker
)


def _live_meetings(
    session: Session, organization_id: str, hits: Sequence[RetrievedChunk]
) -> dict[str, LiveSource]:
    ids = {str(h.payload.get("meeting_id")) for h in hits}
    rows = session.execute(
        select(
            Meeting.id,
            Meeting.index_version,
            Meeting.title,
            Meeting.platform,
            Meeting.organization_id,
        ).where(Meeting.id.in_(ids))  # by primary key only, as for documents
    ).all()
    live = {
        mid: (version, title, platform)
        for mid, version, title, platform, org_id in rows
        if org_id == organization_id
    }
    result = {}
    for hit in hits:
        row = live.get(str(hit.payload.get("meeting_id")))
        if row is not None and row[0] == hit.payload.get("version"):
            source = f"{row[2]} meeting" if row[2] else "meeting"
            extra = {k: hit.payload.get(k) for k in _MEETING_FIELDS}
            result[hit.point_id] = LiveSource(row[1], source, "meeting", extra)
    return result


LIVENESS: dict[str, LivenessCheck] = {"document": _live_documents, "meeting": _live_meetings}
