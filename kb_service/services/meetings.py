"""Meetings: import a transcript, read a meeting and its transcript, meeting sources.

Imported transcripts and live callbacks (`services.meeting_callbacks`) land in the same
tables; the `MeetingIndexer` (`workers.meetings.indexer`) indexes both off the request
path. Limits (documented in the README): a segment holds at most MAX_SEGMENT_CHARS
characters (more is `PayloadTooLarge`), an import at most MAX_IMPORT_SEGMENTS segments,
and an import without segments is `InvalidInput`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.transcripts import (
    Segment,
    Transcript,
    layout,
    normalise_segment_text,
    normalise_speaker,
)
from kb_service.db.base import utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.meetings import Meeting, MeetingSegment, MeetingSource
from kb_service.db.pagination import Page, paginate
from kb_service.errors import InvalidInput, NotFound, PayloadTooLarge
from kb_service.services.projects import load_project
from kb_service.services.scopes import Scope, check_project, meeting_condition
from kb_service.statuses import MeetingStatus

MAX_SEGMENT_CHARS = 20_000
MAX_IMPORT_SEGMENTS = 50_000
_SQLITE_WRITES = threading.Lock()


def meeting_writes(db: Database) -> AbstractContextManager[object]:
    """Serialise this process's meeting writes on SQLite (one writer at a time anyway).

    Without it, concurrent callbacks collide on SQLite's write lock and wait in its
    busy handler, which sleeps in growing steps (up to 100 ms each): p95 callback
    latency went from ~15 ms to ~1 s at 50 events/s. PostgreSQL needs no such lock.
    """
    return _SQLITE_WRITES if db.is_sqlite else nullcontext()


@dataclass(frozen=True)
class SegmentIn:
    speaker: str
    text: str
    timestamp: float


def checked_segment(raw: SegmentIn, *, field: str) -> SegmentIn:
    """Normalised speaker and text; empty text is `InvalidInput`, huge text `PayloadTooLarge`."""
    if len(raw.text) > MAX_SEGMENT_CHARS:
        message = (
            f"A segment's text is {len(raw.text)} characters; at most "
            f"{MAX_SEGMENT_CHARS} are accepted per segment (split long utterances)."
        )
        raise PayloadTooLarge(
            message, errors=[{"field": field + ".text", "message": message, "type": "too_long"}]
        )
    text = normalise_segment_text(raw.text)
    if not text:
        message = "A segment's text is empty."
        raise InvalidInput(
            message, errors=[{"field": field + ".text", "message": message, "type": "value_error"}]
        )
    return SegmentIn(normalise_speaker(raw.speaker), text, float(raw.timestamp))


def merge_participants(current: Sequence[str], *names: str) -> list[str]:
    return list(dict.fromkeys([*current, *(n for n in names if n)]))


def add_segments(
    session: Session, meeting_id: str, segments: Iterable[tuple[int, SegmentIn]], now: datetime
) -> None:
    """Store (sequence, segment) pairs, pending; the commit wakes the meeting indexer."""
    session.add_all(
        MeetingSegment(
            meeting_id=meeting_id,
            sequence=sequence,
            speaker=s.speaker,
            text=s.text,
            timestamp=s.timestamp,
            received_at=now,
        )
        for sequence, s in segments
    )
    wake_after_commit(session, Wake.MEETINGS)


def import_meeting(
    db: Database,
    *,
    organization_id: str,
    title: str,
    segments: Sequence[SegmentIn],
    project_id: str | None = None,
    platform: str | None = None,
    started_at: datetime | None = None,
    participants: Sequence[str] = (),
) -> Meeting:
    """A finished meeting from a transcript: status `ended` until the indexer indexes it."""
    with db.session() as session:
        if project_id is not None:
            load_project(session, organization_id=organization_id, project_id=project_id)
        if not segments:
            message = "A transcript needs at least one segment."
            raise InvalidInput(
                message, errors=[{"field": "segments", "message": message, "type": "too_short"}]
            )
        if len(segments) > MAX_IMPORT_SEGMENTS:
            raise PayloadTooLarge(
                f"At most {MAX_IMPORT_SEGMENTS} segments per imported transcript."
            )
        clean = [checked_segment(s, field=f"segments.{i}") for i, s in enumerate(segments)]
        now = utcnow()
        meeting = Meeting(
            organization_id=organization_id,
            project_id=project_id,
            title=title,
            platform=platform,
            started_at=started_at,
            ended_at=now,
            ended_reason="imported",
            status=MeetingStatus.ENDED,
            participants=merge_participants(participants, *(s.speaker for s in clean)),
            segment_count=len(clean),
            pending_segments=len(clean),
            index_version=0,
            created_at=now,
            updated_at=now,
        )
        session.add(meeting)
        session.flush()
        add_segments(session, meeting.id, enumerate(clean), now)
    return meeting


def _load_meeting(session: Session, *, organization_id: str, meeting_id: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.organization_id != organization_id:
        raise NotFound.of("meeting", meeting_id)
    return meeting


def get_meeting(db: Database, *, organization_id: str, meeting_id: str) -> Meeting:
    """One of the organization's meetings (else `NotFound`)."""
    with db.session() as session:
        return _load_meeting(session, organization_id=organization_id, meeting_id=meeting_id)


def list_meetings(
    db: Database,
    *,
    organization_id: str,
    scope: Scope,
    project_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Meeting]:
    """The meetings inside the key's scope (one project's, given `project_id`), newest first."""
    with db.session() as session:
        inside = meeting_condition(scope)
        query = select(Meeting).where(Meeting.organization_id == organization_id, inside)
        if project_id is not None:
            check_project(scope, project_id)
            load_project(session, organization_id=organization_id, project_id=project_id)
            query = query.where(Meeting.project_id == project_id)
        return paginate(
            session,
            query,
            created_at=Meeting.created_at,
            row_id=Meeting.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )


def load_segments(
    session: Session, meeting_id: str, *, from_sequence: int = 0, limit: int | None = None
) -> list[Segment]:
    """The meeting's segments in sequence order (from `from_sequence`, at most `limit`)."""
    rows = session.execute(
        select(
            MeetingSegment.sequence,
            MeetingSegment.speaker,
            MeetingSegment.text,
            MeetingSegment.timestamp,
        )
        .where(MeetingSegment.meeting_id == meeting_id, MeetingSegment.sequence >= from_sequence)
        .order_by(MeetingSegment.sequence)
        .limit(limit)
    ).all()
    return [Segment(int(seq), speaker, text, float(ts)) for seq, speaker, text, ts in rows]


@dataclass(frozen=True)
class MeetingTranscript:
    """A meeting's status and its extracted text with every segment's span."""

    meeting_id: str
    status: MeetingStatus
    transcript: Transcript


def get_transcript(db: Database, *, organization_id: str, meeting_id: str) -> MeetingTranscript:
    """The meeting's extracted text (what citation offsets index into) and segment spans."""
    with db.session() as session:
        meeting = _load_meeting(session, organization_id=organization_id, meeting_id=meeting_id)
        return MeetingTranscript(
            meeting.id, meeting.status, layout(load_segments(session, meeting.id))
        )


def meeting_view(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "title": meeting.title,
        "project_id": meeting.project_id,
        "source_id": meeting.source_id,
        "external_id": meeting.external_id,
        "platform": meeting.platform,
        "status": meeting.status,
        "started_at": meeting.started_at,
        "ended_at": meeting.ended_at,
        "segment_count": meeting.segment_count,
        "chunk_count": meeting.chunk_count,
        "participants": list(meeting.participants or []),
        "error": meeting.error,
        "indexed_at": meeting.indexed_at,
        "created_at": meeting.created_at,
        "updated_at": meeting.updated_at,
    }


# -- meeting sources -----------------------------------------------------------------


def new_signing_secret() -> str:
    return "ss_" + secrets.token_urlsafe(32)


def create_source(
    db: Database,
    *,
    organization_id: str,
    name: str,
    signing_secret: str | None = None,
    project_id: str | None = None,
) -> MeetingSource:
    """A meeting source; without a given secret a fresh `ss_...` one is made (shown once)."""
    with db.session() as session:
        if project_id is not None:
            load_project(session, organization_id=organization_id, project_id=project_id)
        source = MeetingSource(
            organization_id=organization_id,
            project_id=project_id,
            name=name,
            signing_secret=signing_secret or new_signing_secret(),
            created_at=utcnow(),
        )
        session.add(source)
        session.flush()
    return source


def list_sources(
    db: Database, *, organization_id: str, limit: int, cursor: str | None
) -> Page[MeetingSource]:
    """The organization's meeting sources, oldest first."""
    with db.session() as session:
        return paginate(
            session,
            select(MeetingSource).where(MeetingSource.organization_id == organization_id),
            created_at=MeetingSource.created_at,
            row_id=MeetingSource.id,
            limit=limit,
            cursor=cursor,
        )


def delete_source(db: Database, *, organization_id: str, source_id: str) -> None:
    """Callbacks to the source are refused from now on; its meetings stay."""
    with db.session() as session:
        source = session.get(MeetingSource, source_id)
        if source is None or source.organization_id != organization_id:
            raise NotFound.of("meeting source", source_id)
        session.delete(source)
