"""Web sources of a knowledge base, their sync jobs, and the pages each sync saw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import SourceType, SyncStatus, SyncTrigger


class WebSource(Base):
    """A URL (crawled within its site) or a sitemap kept in sync with a knowledge base.

    `next_run_at` is the next slot of its schedule (NULL: synced on demand only); slots
    lie on the grid `created_at + k * interval_minutes` (`workers/scheduler.py`).
    """

    __tablename__ = "web_sources"
    __table_args__ = (
        Index("ix_web_sources_kb_created", "knowledge_base_id", "created_at", "id"),
        Index("ix_web_sources_due", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("src"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    knowledge_base_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE")
    )
    type: Mapped[SourceType] = mapped_column(StatusType(SourceType, 16))
    url: Mapped[str] = mapped_column(String(2000))
    include: Mapped[list[Any]] = mapped_column(default=list)
    exclude: Mapped[list[Any]] = mapped_column(default=list)
    max_pages: Mapped[int] = mapped_column(Integer)
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    next_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceSync(Base):
    """One sync of a source: a job. status: queued → running → completed | stopped | failed.

    `stopped`: more pages would have been deleted than the safety share allows, so
    nothing was changed. `scheduled_for` is the schedule slot that queued it (NULL: on
    demand); unique per source, so a slot never queues two syncs.
    """

    __tablename__ = "source_syncs"
    __table_args__ = (
        UniqueConstraint("source_id", "scheduled_for"),
        Index("ix_source_syncs_claim", "status", "created_at"),
        Index("ix_source_syncs_source_created", "source_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job"))
    source_id: Mapped[str] = mapped_column(ForeignKey("web_sources.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(String(40))
    knowledge_base_id: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[SyncTrigger] = mapped_column(StatusType(SyncTrigger, 16))
    scheduled_for: Mapped[datetime | None]
    allow_mass_delete: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SyncStatus] = mapped_column(
        StatusType(SyncStatus, 16), default=SyncStatus.QUEUED
    )
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    pages_created: Mapped[int] = mapped_column(Integer, default=0)
    pages_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    pages_updated: Mapped[int] = mapped_column(Integer, default=0)
    pages_deleted: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    pages_skipped: Mapped[int] = mapped_column(Integer, default=0)  # robots.txt said no
    ingest_job_ids: Mapped[list[Any]] = mapped_column(default=list)  # the changed pages
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[list[Any]] = mapped_column(default=list)  # [{url, error}], capped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SourcePage(Base):
    """A page a source's last applied sync kept, with what its next request is conditional on.

    `url` is the page as listed (sitemap) or linked (crawl); its document has the
    identity `document_key` (`sources/pages.py`). `links` are the same-site links it
    held, for a crawl whose next request answers 304 Not Modified.
    """

    __tablename__ = "source_pages"
    __table_args__ = (UniqueConstraint("source_id", "url_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pag"))
    source_id: Mapped[str] = mapped_column(ForeignKey("web_sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    url_hash: Mapped[str] = mapped_column(String(64))
    final_url: Mapped[str] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    links: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
