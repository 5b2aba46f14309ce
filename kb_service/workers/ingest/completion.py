"""What became of a job's items and of the job, written inside the caller's transaction.

The caller has fenced the transaction on the job lease (`JobQueue.fence`):
- `record_version`: an item's new version made live (if it is newer than the live
  one), with the document row and the chunk rows swapped in one transaction;
- `record_failure`: an item that could not be ingested (its reservation given back);
- `fail_remaining`: every item still pending, e.g. when the job is abandoned;
- `finish_job`: the job's final status and its `kb.ingest.*` outbox event.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ingest.pipeline import PreparedDocument
from kb_service.db.base import utcnow
from kb_service.db.content import Chunk, Document
from kb_service.db.events import record_event
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.services.ingestion import item_view
from kb_service.statuses import ItemStatus, JobStatus
from kb_service.workers.ingest.targets import (
    Target,
    VersionOutcome,
    commit_version,
    release_version,
)
from retrieval.indexing import chunk_id, point_id


def record_version(
    session: Session, job: IngestJob, item: IngestItem, target: Target, prepared: PreparedDocument
) -> bool:
    """Record the item's version; True when it became the document's live version."""
    extracted, chunks = prepared.extracted, prepared.chunks
    outcome = commit_version(session, target, item.content_hash)
    job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]
    item.content = None
    if outcome == VersionOutcome.GONE:
        item.status = ItemStatus.FAILED
        item.error = "The document was deleted while this version was being ingested."
        return False
    if outcome != VersionOutcome.LIVE:
        # unchanged: a concurrent upload committed the same content first;
        # superseded: a newer version of the document is already live.
        unchanged = outcome == VersionOutcome.UNCHANGED
        item.status = ItemStatus.UNCHANGED if unchanged else ItemStatus.SUPERSEDED
        return False
    document = session.get(Document, target.document_id, populate_existing=True)
    assert document is not None
    now = utcnow()
    document.title = item.title or extracted.title or (item.filename or "Untitled")
    document.source = item.source_url or item.filename or document.title
    document.source_url = item.source_url
    document.source_type = extracted.source_type
    document.external_id = item.external_id
    document.content_hash = item.content_hash
    document.error = None
    document.chunk_count = len(chunks)
    document.char_count = len(extracted.text)
    document.text = extracted.text
    document.metadata_ = {**extracted.metadata, **(item.metadata_ or {})}
    document.updated_at = now
    session.execute(delete(Chunk).where(Chunk.document_id == target.document_id))
    for draft in chunks:
        pid = point_id(target.document_id, target.version, draft.ordinal)
        session.add(
            Chunk(
                id=chunk_id(pid),
                point_id=pid,
                document_id=target.document_id,
                knowledge_base_id=job.knowledge_base_id,
                organization_id=job.organization_id,
                ordinal=draft.ordinal,
                text=draft.text,
                char_start=draft.char_start,
                char_end=draft.char_end,
                token_count=draft.token_count,
                page_number=draft.page_number,
                section=list(draft.section),
                # ordinal order == (created_at, id) order, for keyset paging
                created_at=now + timedelta(microseconds=draft.ordinal),
            )
        )
    item.status = ItemStatus.INDEXED
    item.chunk_count = len(chunks)
    job.chunks_indexed = IngestJob.chunks_indexed + len(chunks)  # type: ignore[assignment]
    return True


def record_failure(
    session: Session, job: IngestJob, item: IngestItem, target: Target, error: str | None
) -> None:
    """The item failed with `error`; a document it alone reserved goes again."""
    item.status = ItemStatus.FAILED
    item.error = error
    item.content = None
    if release_version(session, target.document_id):
        item.document_id = None
        item.document_version = None
    job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]


def fail_remaining(session: Session, job: IngestJob, reason: str) -> None:
    """Fail every item of the job still pending, for `reason` (also the job's error)."""
    items = session.scalars(
        select(IngestItem).where(
            IngestItem.job_id == job.id, IngestItem.status == ItemStatus.PENDING
        )
    ).all()
    for item in items:
        item.status, item.error, item.content = ItemStatus.FAILED, reason, None
        if item.document_id is not None and item.document_version is not None:
            release_version(session, item.document_id)
        job.documents_done += 1
    job.error = reason


def finish_job(session: Session, job: IngestJob) -> None:
    """Set the job's final status and write `kb.ingest.completed` or `kb.ingest.failed`."""
    items = session.scalars(
        select(IngestItem).where(IngestItem.job_id == job.id).order_by(IngestItem.position)
    ).all()
    failed = sum(1 for i in items if i.status == ItemStatus.FAILED)
    if failed == 0:
        job.status = JobStatus.COMPLETED
    elif failed == len(items):
        job.status = JobStatus.FAILED
        job.error = job.error or "No document of this job could be ingested."
    else:
        job.status = JobStatus.PARTIALLY_FAILED
    job.finished_at = utcnow()
    job.lease_owner = None
    job.lease_expires_at = None
    session.flush()
    session.refresh(job)
    record_event(
        session,
        organization_id=job.organization_id,
        type="kb.ingest.failed" if job.status == JobStatus.FAILED else "kb.ingest.completed",
        data={
            "job_id": job.id,
            "knowledge_base_id": job.knowledge_base_id,
            "status": job.status,
            "documents_total": job.documents_total,
            "documents_failed": failed,
            "chunks_indexed": job.chunks_indexed,
            "documents": [item_view(i) for i in items],
            "error": job.error,
        },
    )
