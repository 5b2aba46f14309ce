"""Ingest jobs and their per-document items (the durable job queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import ItemStatus, JobStatus


class IngestJob(Base):
    """status: queued → running → completed | failed | partially_failed."""

    __tablename__ = "ingest_jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "status", "created_at"),
        Index("ix_jobs_org_created", "organization_id", "created_at", "id"),
        # the claim's running jobs and latest claims per organization and knowledge base
        Index("ix_jobs_org_status", "organization_id", "status"),
        Index("ix_jobs_kb_status", "knowledge_base_id", "status"),
        Index("ix_jobs_org_claimed", "organization_id", "claimed_at"),
        Index("ix_jobs_kb_claimed", "knowledge_base_id", "claimed_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    knowledge_base_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[JobStatus] = mapped_column(StatusType(JobStatus, 20), default=JobStatus.QUEUED)
    documents_total: Mapped[int] = mapped_column(Integer, default=0)
    documents_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_indexed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]  # the last claim: who was served least recently
    finished_at: Mapped[datetime | None]


class IngestItem(Base):
    """One document of a job. status: pending → indexed | unchanged | superseded | failed.

    `superseded`: the item's version was indexed, but a newer version of the same
    document had been committed first, so it never went live.

    The upload's bytes live here until the item is processed, so a worker on any
    machine can process it and a retried job can redo it.
    """

    __tablename__ = "ingest_items"
    __table_args__ = (Index("ix_items_job", "job_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("itm"))
    job_id: Mapped[str] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(String(500))
    source_url: Mapped[str | None] = mapped_column(String(2000))
    external_id: Mapped[str | None] = mapped_column(String(500))
    media_type: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    text: Mapped[str | None] = mapped_column(Text)  # JSON text records
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[ItemStatus] = mapped_column(
        StatusType(ItemStatus, 20), default=ItemStatus.PENDING
    )
    document_id: Mapped[str | None] = mapped_column(String(40))
    document_version: Mapped[int | None] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Parses started (committed before each); see `preparation.MAX_PARSE_ATTEMPTS`.
    parse_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
