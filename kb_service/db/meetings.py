"""Meetings, their finalized segments, live meeting sources and the callback dedupe log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import MeetingStatus


class MeetingSource(Base):
    """A Sasha-style meeting bot posting signed callbacks; fixes organization and project."""

    __tablename__ = "meeting_sources"
    __table_args__ = (
        Index("ix_meeting_sources_org_created", "organization_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("msrc"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(200))
    # Kept in clear: verifying an HMAC needs the secret itself (like webhook secrets).
    signing_secret: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Meeting(Base):
    """A meeting's history. status: live → ended → indexed (or failed).

    `index_version` is the version of its vector points that searches may return
    (live segment points, then the re-chunked transcript at version + 1).
    `pending_segments` counts segments not yet in the index; the indexer claims a
    meeting with pending segments, an `ended` status or `stale_points` under a lease.
    """

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_meetings_org_created", "organization_id", "created_at", "id"),
        Index("ix_meetings_project_created", "project_id", "created_at", "id"),
        Index("ix_meetings_work", "status", "pending_segments"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("mtg"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id"))
    # No foreign key: a deleted source leaves its meetings' history in place.
    source_id: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(200))  # Sasha's meetingId
    title: Mapped[str] = mapped_column(String(500))
    platform: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    # The sequence of the `meeting_status: ended` event: later segments are refused.
    ended_sequence: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[MeetingStatus] = mapped_column(StatusType(MeetingStatus, 16))
    participants: Mapped[list[Any]] = mapped_column(default=list)
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    transcript_chars: Mapped[int] = mapped_column(Integer, default=0)
    index_version: Mapped[int] = mapped_column(Integer, default=1)
    pending_segments: Mapped[int] = mapped_column(Integer, default=0)
    stale_points: Mapped[bool] = mapped_column(default=False)
    index_attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MeetingSegment(Base):
    """One finalized utterance. `char_start/char_end` are set once it is laid out."""

    __tablename__ = "meeting_segments"
    __table_args__ = (
        UniqueConstraint("meeting_id", "sequence"),
        Index("ix_meeting_segments_pending", "meeting_id", "indexed", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    speaker: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[float] = mapped_column(Float)
    indexed: Mapped[bool] = mapped_column(default=False)
    char_start: Mapped[int | None] = mapped_column(Integer)
    char_end: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeetingCallback(Base):
    """Every accepted callback's `(meetingId, sequence)`: a repeat is a no-op."""

    __tablename__ = "meeting_callbacks"
    __table_args__ = (UniqueConstraint("source_id", "external_meeting_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("meeting_sources.id", ondelete="CASCADE"))
    external_meeting_id: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
