"""Projects, knowledge bases, documents and their chunks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import DocumentStatus


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_org_created", "organization_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("prj"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeBase(Base):
    __tablename__ = "knowledge_bases"
    __table_args__ = (Index("ix_kbs_org_created", "organization_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("kb"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    chunk_max_tokens: Mapped[int] = mapped_column(Integer)
    chunk_overlap_tokens: Mapped[int] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(Base):
    """One source in a knowledge base, identified by `identity_key` within it.

    `version` is the live version searches may return (0: none yet, status `pending`);
    `latest_version` is the highest version reserved by an ingest item, and
    `pending_versions` counts reservations not yet committed or failed. A document
    that never had a live version is deleted when its last reservation fails.
    """

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_kb_created", "knowledge_base_id", "created_at", "id"),
        Index("ix_documents_kb_hash", "knowledge_base_id", "content_hash"),
        Index("ix_documents_kb_external", "knowledge_base_id", "external_id"),
        Index("ix_documents_kb_source", "knowledge_base_id", "source"),
        # NULL identities (text records with no external id, URL or filename) never clash.
        Index("uq_documents_identity", "knowledge_base_id", "identity_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("doc"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    knowledge_base_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(2000))  # filename or URL
    source_url: Mapped[str | None] = mapped_column(String(2000))
    source_type: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(500))
    identity_key: Mapped[str | None] = mapped_column(String(2100))
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    pending_versions: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[DocumentStatus] = mapped_column(StatusType(DocumentStatus, 16))
    error: Mapped[str | None] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    char_count: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Chunk(Base):
    """A chunk of a document's live version; `text == document.text[char_start:char_end]`."""

    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal"),
        Index("ix_chunks_kb", "knowledge_base_id"),
        Index("ix_chunks_point", "point_id"),  # liveness: is this hit a committed chunk?
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    point_id: Mapped[str] = mapped_column(String(36))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    knowledge_base_id: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[str] = mapped_column(String(40))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)
    page_number: Mapped[int | None] = mapped_column(Integer)
    section: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TombstoneScope(StrEnum):
    """Which vectors a tombstone stands for: those of one document, or of a knowledge base."""

    DOCUMENT = "document"
    KNOWLEDGE_BASE = "knowledge_base"


class VectorTombstone(Base):
    """Vectors still to be removed from the vector index, of the deleted `target_id`.

    Written in the transaction that deletes the document or knowledge base in SQL (and
    by migration 0002 for the duplicate documents it merges, since a migration cannot
    reach the index); deleted once its vectors are. See `services/tombstones.py`.
    """

    __tablename__ = "vector_tombstones"

    target_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope: Mapped[TombstoneScope] = mapped_column(
        StatusType(TombstoneScope, 20), default=TombstoneScope.DOCUMENT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
