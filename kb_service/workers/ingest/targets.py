"""Dedup and versioning: which document, at which version, an ingest item becomes.

Decided per item, before it is parsed, inside the caller's (fenced) transaction:

- the item already holds a reservation (a retried job) → that document and version;
- content already indexed in the knowledge base (same content hash) → `unchanged`,
  linked to that document; nothing is parsed or embedded;
- the same bytes earlier in the same job → `unchanged`, linked to the earlier item;
- an identity (`external_id`, else source URL or filename) → the next version of the
  knowledge base's one document with that identity, reserved in SQL by a single
  upsert on the unique (knowledge base, identity) key, which creates the document
  (status `pending`, no live version) when it does not exist yet;
- no identity (a JSON record with only text) → a new document at version 1.

A reservation is one atomic statement on both SQLite and PostgreSQL, so concurrent
jobs never share a version number and never mint two documents for one identity.
Committing a version (`commit_version`) is conditional on it being newer than the
live one; a reservation that fails or loses is released (`release_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kb_service.db.base import new_id, utcnow
from kb_service.db.content import Document
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.statuses import DocumentStatus, ItemStatus


class VersionOutcome(StrEnum):
    """What committing a reserved version did (`commit_version`)."""

    LIVE = "live"  # it is the document's live version now
    UNCHANGED = "unchanged"  # the live version already has this content
    SUPERSEDED = "superseded"  # a newer version is live
    GONE = "gone"  # the document was deleted


@dataclass
class Target:
    item_id: str
    document_id: str
    version: int


def identity_key(
    *, external_id: str | None, source_url: str | None, filename: str | None
) -> str | None:
    """The document identity within a knowledge base; None: always a new document."""
    if external_id:
        return "external_id:" + external_id
    source = source_url or filename
    return "source:" + source if source else None


def resolve_target(session: Session, item_id: str) -> Target | None:
    """The item's target document and version, or None when its content is unchanged."""
    item = session.get(IngestItem, item_id)
    assert item is not None
    if item.document_id is not None and item.document_version is not None:
        return Target(item.id, item.document_id, item.document_version)
    job = session.get(IngestJob, item.job_id)
    assert job is not None
    kb_id = job.knowledge_base_id
    same_content = session.scalars(
        select(Document).where(
            Document.knowledge_base_id == kb_id,
            Document.content_hash == item.content_hash,
            Document.status == DocumentStatus.INDEXED,
        )
    ).first()
    twin = (
        None
        if same_content is not None
        else session.scalars(
            select(IngestItem).where(
                IngestItem.job_id == item.job_id,
                IngestItem.position < item.position,
                IngestItem.content_hash == item.content_hash,
                IngestItem.status != ItemStatus.FAILED,
                IngestItem.document_id.is_not(None),
            )
        ).first()
    )
    if same_content is not None or twin is not None:
        item.status, item.content = ItemStatus.UNCHANGED, None
        if same_content is not None:
            item.document_id, item.document_version = same_content.id, same_content.version
        elif twin is not None:
            item.document_id, item.document_version = twin.document_id, twin.document_version
        job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]
        return None
    item.document_id, item.document_version = _reserve(session, item, job)
    return Target(item.id, item.document_id, item.document_version)


def _reserve(session: Session, item: IngestItem, job: IngestJob) -> tuple[str, int]:
    """Reserve the next version of the item's document, creating it when new."""
    now = utcnow()
    key = identity_key(
        external_id=item.external_id, source_url=item.source_url, filename=item.filename
    )
    title = item.title or item.filename or "Untitled"
    attributes: dict[str, Any] = {
        "id": new_id("doc"),
        "organization_id": job.organization_id,
        "knowledge_base_id": job.knowledge_base_id,
        "identity_key": key,
        "title": title,
        "source": item.source_url or item.filename or title,
        "source_url": item.source_url,
        "source_type": "",
        "external_id": item.external_id,
        "content_hash": item.content_hash,
        "version": 0,
        "latest_version": 1,
        "pending_versions": 1,
        "status": DocumentStatus.PENDING,
        "chunk_count": 0,
        "char_count": 0,
        "text": "",
        "metadata_": {},
        "created_at": now,
        "updated_at": now,
    }
    if key is None:
        session.add(Document(**attributes))
        session.flush()
        return attributes["id"], 1
    assert session.bind is not None
    insert = sqlite_insert if session.bind.dialect.name == "sqlite" else pg_insert
    statement = (
        insert(Document)
        .values(**attributes)
        .on_conflict_do_update(
            index_elements=["knowledge_base_id", "identity_key"],
            set_={
                "latest_version": Document.latest_version + 1,
                "pending_versions": Document.pending_versions + 1,
            },
        )
        .returning(Document.id, Document.latest_version)
    )
    document_id, version = session.execute(statement).one()
    return str(document_id), int(version)


def commit_version(session: Session, target: Target, content_hash: str) -> VersionOutcome:
    """Make the target version live if it is newer than the live one.

    Returns the `VersionOutcome`.
    The conditional UPDATE is the transaction's first write on the document row, so
    concurrent commits of one document serialise on it (row lock on PostgreSQL, the
    writer lock on SQLite) and each sees the other's result.
    """
    won = session.execute(
        update(Document)
        .where(
            Document.id == target.document_id,
            Document.version < target.version,
            ~(
                (Document.status == DocumentStatus.INDEXED)
                & (Document.content_hash == content_hash)
            ),
        )
        .values(
            version=target.version,
            status=DocumentStatus.INDEXED,
            pending_versions=Document.pending_versions - 1,
        )
    ).rowcount  # type: ignore[attr-defined]
    if won:
        return VersionOutcome.LIVE
    document = session.get(Document, target.document_id, populate_existing=True)
    if document is None:
        return VersionOutcome.GONE
    release_version(session, target.document_id)
    if document.status == DocumentStatus.INDEXED and document.content_hash == content_hash:
        return VersionOutcome.UNCHANGED
    return VersionOutcome.SUPERSEDED


def release_version(session: Session, document_id: str) -> bool:
    """Give back one reservation; a document that never went live and has none left goes.

    Returns True when the document row was deleted.
    """
    session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(pending_versions=Document.pending_versions - 1)
    )
    gone = session.execute(
        delete(Document).where(
            Document.id == document_id,
            Document.status == DocumentStatus.PENDING,
            Document.pending_versions <= 0,
        )
    ).rowcount  # type: ignore[attr-defined]
    return bool(gone)
