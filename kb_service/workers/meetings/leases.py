"""Which meetings need indexing, claimed under leases, and the SQL writes of indexing.

A meeting is claimable by the live indexer while it is `live` with pending segments,
and by the final indexer while it is `ended` (or has stale points to sweep), when no
unexpired lease holds it. Claims are one UPDATE (with `FOR UPDATE SKIP LOCKED` on
PostgreSQL), so indexers in several processes never take the same meeting; every
later write checks the lease is still held (`held`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from ingest.transcripts import SegmentSpan
from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting, MeetingSegment
from kb_service.services.meetings import meeting_writes
from kb_service.statuses import MeetingStatus

MAX_ATTEMPTS = 5
WORK = {
    "live": f"status = '{MeetingStatus.LIVE.value}' AND pending_segments > 0",
    "final": f"(status = '{MeetingStatus.ENDED.value}' OR stale_points = :yes)",
}


def claim(db: Database, *, kind: str, owner: str, lease: timedelta, limit: int) -> list[str]:
    """Lease up to `limit` meetings with work of `kind`; their ids."""
    now = utcnow().replace(tzinfo=None)
    candidates = (
        f"SELECT id FROM meetings WHERE {WORK[kind]} "
        "AND (lease_expires_at IS NULL OR lease_expires_at < :now) "
        "ORDER BY updated_at LIMIT :limit"
    )
    if not db.is_sqlite:
        candidates += " FOR UPDATE SKIP LOCKED"
    statement = text(
        "UPDATE meetings SET lease_owner = :owner, lease_expires_at = :expires "
        f"WHERE id IN ({candidates}) RETURNING id"
    )
    params = {"owner": owner, "expires": now + lease, "now": now, "limit": limit, "yes": True}
    with meeting_writes(db), db.session() as session:
        return [str(row[0]) for row in session.execute(statement, params).all()]


def claim_meeting(db: Database, *, meeting_id: str, owner: str, lease: timedelta) -> bool:
    """Lease one meeting with final-indexing work (a command indexing its own imports)."""
    now = utcnow().replace(tzinfo=None)
    statement = text(
        "UPDATE meetings SET lease_owner = :owner, lease_expires_at = :expires "
        f"WHERE id = :id AND {WORK['final']} "
        "AND (lease_expires_at IS NULL OR lease_expires_at < :now) RETURNING id"
    )
    params = {"owner": owner, "expires": now + lease, "now": now, "id": meeting_id, "yes": True}
    with meeting_writes(db), db.session() as session:
        return session.execute(statement, params).first() is not None


def held(session: Session, db: Database, meeting_id: str, owner: str) -> Meeting | None:
    """The meeting, if `owner` still holds its lease (row-locked on PostgreSQL)."""
    meeting = session.get(Meeting, meeting_id, with_for_update=not db.is_sqlite)
    return meeting if meeting and meeting.lease_owner == owner else None


def release(meeting: Meeting) -> None:
    """Give the lease back; `pending_segments` is recounted (it heals any drift)."""
    meeting.pending_segments = (  # type: ignore[assignment]
        select(func.count())
        .where(MeetingSegment.meeting_id == meeting.id, MeetingSegment.indexed.is_(False))
        .scalar_subquery()
    )
    meeting.lease_owner, meeting.lease_expires_at = None, None


def release_final(db: Database, meeting_id: str, owner: str, version: int) -> None:
    """After a sweep: no stale points remain for `version`; the lease is given back."""
    with meeting_writes(db), db.session() as session:
        session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id, Meeting.index_version == version)
            .values(stale_points=False)
        )
        session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id, Meeting.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )


def record_failure(db: Database, meeting_id: str, exc: Exception, *, final: bool) -> None:
    """Back off (2^attempts s, at most 5 min); a final index failing MAX_ATTEMPTS → failed."""
    with meeting_writes(db), db.session() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            return
        meeting.index_attempts += 1
        backoff = timedelta(seconds=min(300.0, 2.0**meeting.index_attempts))
        meeting.lease_owner, meeting.lease_expires_at = None, utcnow() + backoff
        if (
            final
            and meeting.index_attempts >= MAX_ATTEMPTS
            and meeting.status == MeetingStatus.ENDED
        ):
            meeting.status = MeetingStatus.FAILED
            meeting.error = (
                f"Indexing failed {MAX_ATTEMPTS} times ({type(exc).__name__}); "
                "a late segment of the meeting retries it."
            )


def store_offsets(session: Session, meeting_id: str, spans: list[SegmentSpan]) -> None:
    if not spans:
        return
    ids = dict(
        session.execute(
            select(MeetingSegment.sequence, MeetingSegment.id).where(
                MeetingSegment.meeting_id == meeting_id,
                MeetingSegment.sequence >= spans[0].sequence,
                MeetingSegment.sequence <= spans[-1].sequence,
            )
        ).all()
    )
    session.execute(
        update(MeetingSegment),
        [
            {
                "id": ids[s.sequence],
                "char_start": s.char_start,
                "char_end": s.char_end,
                "indexed": True,
            }
            for s in spans
            if s.sequence in ids
        ],
    )
