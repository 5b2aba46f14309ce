"""Dedup and versioning: which document, at which version, an ingest item becomes.

Decided per item, before it is parsed, inside the caller's (fenced) transaction:

- content already indexed in the knowledge base (same content hash) → `unchanged`,
  linked to that document; nothing is parsed or embedded;
- the same bytes earlier in the same job → `unchanged`, linked to the earlier item;
- an earlier item of this job with the same identity (`external_id`, else source URL
  or filename), resolved but maybe not committed yet since items are prepared ahead
  of the model → the next version of that item's document;
- a live document with that identity → its next version (swapped in atomically later);
- otherwise a new document at version 1 (its id is kept on the item, so a retried job
  reuses it and its deterministic point ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb_service.db.base import new_id
from kb_service.db.content import Document
from kb_service.db.jobs import IngestItem, IngestJob


@dataclass
class Target:
    item_id: str
    document_id: str
    version: int
    existing: bool  # the document may already exist (a new version, not a new document)


def resolve_target(session: Session, item_id: str) -> Target | None:
    """The item's target document and version, or None when its content is unchanged."""
    item = session.get(IngestItem, item_id)
    assert item is not None
    job = session.get(IngestJob, item.job_id)
    assert job is not None
    kb_id = job.knowledge_base_id
    same_content = session.scalars(
        select(Document).where(
            Document.knowledge_base_id == kb_id,
            Document.content_hash == item.content_hash,
            Document.status == "indexed",
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
                IngestItem.status != "failed",
                IngestItem.document_id.is_not(None),
            )
        ).first()
    )
    if same_content is not None or twin is not None:
        item.status, item.content = "unchanged", None
        if same_content is not None:
            item.document_id, item.document_version = same_content.id, same_content.version
        elif twin is not None:
            item.document_id, item.document_version = twin.document_id, twin.document_version
        job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]
        return None
    earlier, existing = _same_identity(session, item, kb_id)
    if earlier is not None:
        item.document_id = earlier.document_id
        item.document_version = (earlier.document_version or 1) + 1
    elif existing is not None:
        item.document_id, item.document_version = existing.id, existing.version + 1
    elif item.document_id is None:
        item.document_id, item.document_version = new_id("doc"), 1
    assert item.document_id is not None
    return Target(
        item.id,
        item.document_id,
        item.document_version or 1,
        existing=existing is not None or earlier is not None,
    )


def _same_identity(
    session: Session, item: IngestItem, kb_id: str
) -> tuple[IngestItem | None, Document | None]:
    """The latest earlier item of this job and the live document sharing the item's identity.

    The identity is the `external_id`, else the source URL or filename; an item with
    none of them (a JSON record with only text) is always a new document.
    """
    source = item.source_url or item.filename
    if item.external_id:
        identity = Document.external_id == item.external_id
        same_item = IngestItem.external_id == item.external_id
    elif source:
        identity = Document.source == source
        same_item = IngestItem.external_id.is_(None) & (
            func.coalesce(IngestItem.source_url, IngestItem.filename) == source
        )
    else:
        return None, None
    earlier = session.scalars(
        select(IngestItem)
        .where(
            IngestItem.job_id == item.job_id,
            IngestItem.position < item.position,
            IngestItem.status == "pending",
            IngestItem.document_id.is_not(None),
            same_item,
        )
        .order_by(IngestItem.position.desc())
    ).first()
    existing = session.scalars(
        select(Document).where(Document.knowledge_base_id == kb_id, identity)
    ).first()
    return earlier, existing
