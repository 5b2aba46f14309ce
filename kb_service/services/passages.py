"""Passages by id: what an agent reads after a search names a passage.

An id names one of these, always within the caller's organization (anything else,
and any malformed id, is `NotFound`):

| id | passage |
|---|---|
| `chk_...` | a chunk of a live document (the `chunk_id` of searches and citations) |
| `doc_...` | a live document's whole extracted text |
| `doc_...:START-END` | characters `[START, END)` of a live document's extracted text |
| `mtg_...` | a meeting's whole transcript |
| `mtg_...:START-END` | characters `[START, END)` of a meeting's transcript (how a search names a meeting passage) |

Offsets index into the text that citations index into (a document's extracted text,
a meeting's laid-out transcript). At most `MAX_PASSAGE_CHARS` characters are returned;
a longer passage is cut there and says so (`truncated`), and the span ids page on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.transcripts import SegmentSpan, layout
from kb_service.db.content import Chunk, Document
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting
from kb_service.errors import NotFound
from kb_service.services import scopes
from kb_service.services.meetings import load_segments
from kb_service.statuses import DocumentStatus

MAX_PASSAGE_CHARS = 100_000
_SPAN_ID = re.compile(r"^((?:doc|mtg)_[A-Za-z0-9]+)(?::(\d{1,12})-(\d{1,12}))?$")
_CHUNK_ID = re.compile(r"^chk_[A-Za-z0-9]+$")


@dataclass(frozen=True)
class PassageSegment:
    """A meeting segment inside a passage, clipped to it."""

    speaker: str
    timestamp: float
    char_start: int
    char_end: int


@dataclass(frozen=True)
class StoredPassage:
    """A passage's text with where it sits in its source (`[char_start, char_end)`)."""

    id: str
    kind: Literal["chunk", "document", "meeting"]
    title: str
    source: str
    source_type: str
    text: str
    char_start: int
    char_end: int
    truncated: bool = False
    knowledge_base_id: str | None = None
    document_id: str | None = None
    chunk_id: str | None = None
    page_number: int | None = None
    section: list[str] = field(default_factory=list)
    meeting_id: str | None = None
    segments: list[PassageSegment] = field(default_factory=list)  # meetings only
    metadata: dict[str, Any] = field(default_factory=dict)


def meeting_passage_id(meeting_id: str, char_start: int, char_end: int) -> str:
    """The id of characters `[char_start, char_end)` of a meeting's transcript."""
    return f"{meeting_id}:{char_start}-{char_end}"


def get_passage(
    db: Database, *, organization_id: str, scope: scopes.Scope, passage_id: str
) -> StoredPassage:
    """The passage `passage_id` names (see the module docstring), else `NotFound`
    (also when its knowledge base or meeting is outside the key's scope)."""
    passage_id = passage_id.strip()
    with db.session() as session:
        stored = _find(session, organization_id, passage_id)
        if stored.meeting_id is not None:
            scopes.check_named(session, scope, "meetings", stored.meeting_id)
        else:
            scopes.check_named(session, scope, "knowledge-bases", stored.knowledge_base_id or "")
        return stored


def _find(session: Session, organization_id: str, passage_id: str) -> StoredPassage:
    if _CHUNK_ID.match(passage_id):
        return _chunk(session, organization_id, passage_id)
    match = _SPAN_ID.match(passage_id)
    if match is None:
        raise NotFound(
            f"No passage with id {passage_id!r} exists in your organization "
            "(ids look like chk_..., doc_..., mtg_... or mtg_...:120-480)."
        )
    source_id, start, end = match.group(1), match.group(2), match.group(3)
    span = (int(start), int(end)) if start is not None else None
    if source_id.startswith("doc_"):
        return _document(session, organization_id, source_id, span, passage_id)
    return _meeting(session, organization_id, source_id, span, passage_id)


def _live_document(session: Session, organization_id: str, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if (
        document is None
        or document.organization_id != organization_id
        or document.status != DocumentStatus.INDEXED
    ):
        raise NotFound.of("document", document_id)
    return document


def _chunk(session: Session, organization_id: str, chunk_id: str) -> StoredPassage:
    chunk = session.get(Chunk, chunk_id)
    if chunk is None or chunk.organization_id != organization_id:
        raise NotFound.of("passage", chunk_id)
    document = _live_document(session, organization_id, chunk.document_id)
    return StoredPassage(
        id=chunk.id,
        kind="chunk",
        title=document.title,
        source=document.source,
        source_type=document.source_type,
        text=chunk.text,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        knowledge_base_id=chunk.knowledge_base_id,
        document_id=document.id,
        chunk_id=chunk.id,
        page_number=chunk.page_number,
        section=[str(s) for s in chunk.section or []],
        metadata=dict(document.metadata_ or {}),
    )


def _document(
    session: Session,
    organization_id: str,
    document_id: str,
    span: tuple[int, int] | None,
    passage_id: str,
) -> StoredPassage:
    document = _live_document(session, organization_id, document_id)
    start, end, truncated = _clip(span, len(document.text), passage_id)
    page = _page_at(session, document.id, start)
    return StoredPassage(
        id=passage_id,
        kind="document",
        title=document.title,
        source=document.source,
        source_type=document.source_type,
        text=document.text[start:end],
        char_start=start,
        char_end=end,
        truncated=truncated,
        knowledge_base_id=document.knowledge_base_id,
        document_id=document.id,
        page_number=page,
        metadata=dict(document.metadata_ or {}),
    )


def _page_at(session: Session, document_id: str, offset: int) -> int | None:
    """The page of the chunk that holds `offset` (None for sources without pages)."""
    row = session.execute(
        select(Chunk.page_number)
        .where(Chunk.document_id == document_id, Chunk.char_start <= offset)
        .order_by(Chunk.char_start.desc())
        .limit(1)
    ).first()
    return None if row is None else row[0]


def _meeting(
    session: Session,
    organization_id: str,
    meeting_id: str,
    span: tuple[int, int] | None,
    passage_id: str,
) -> StoredPassage:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.organization_id != organization_id:
        raise NotFound.of("meeting", meeting_id)
    transcript = layout(load_segments(session, meeting.id))
    start, end, truncated = _clip(span, len(transcript.text), passage_id)
    return StoredPassage(
        id=passage_id,
        kind="meeting",
        title=meeting.title,
        source=f"{meeting.platform} meeting" if meeting.platform else "meeting",
        source_type="meeting",
        text=transcript.text[start:end],
        char_start=start,
        char_end=end,
        truncated=truncated,
        meeting_id=meeting.id,
        segments=_segments_in(transcript.spans, start, end),
        metadata={"project_id": meeting.project_id, "status": str(meeting.status)},
    )


def _segments_in(spans: list[SegmentSpan], start: int, end: int) -> list[PassageSegment]:
    return [
        PassageSegment(s.speaker, s.timestamp, max(s.char_start, start), min(s.char_end, end))
        for s in spans
        if s.char_end > start and s.char_start < end
    ]


def _clip(span: tuple[int, int] | None, length: int, passage_id: str) -> tuple[int, int, bool]:
    """The span to return (the whole text without one), cut at MAX_PASSAGE_CHARS."""
    start, end = span if span is not None else (0, length)
    if not 0 <= start < end <= length:
        raise NotFound(
            f"No passage with id {passage_id!r}: the span is outside the text "
            f"(0-{length}) or empty."
        )
    truncated = end - start > MAX_PASSAGE_CHARS
    return start, min(end, start + MAX_PASSAGE_CHARS), truncated
