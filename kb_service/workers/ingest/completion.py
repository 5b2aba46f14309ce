"""Closing a job: its final status and the outbox event, in one transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.events import record_event
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.services.ingestion import item_view


def finish_job(session: Session, job: IngestJob) -> None:
    """Set the job's final status and write `kb.ingest.completed` or `kb.ingest.failed`."""
    items = session.scalars(
        select(IngestItem).where(IngestItem.job_id == job.id).order_by(IngestItem.position)
    ).all()
    failed = sum(1 for i in items if i.status == "failed")
    if failed == 0:
        job.status = "completed"
    elif failed == len(items):
        job.status = "failed"
        job.error = job.error or "No document of this job could be ingested."
    else:
        job.status = "partially_failed"
    job.finished_at = utcnow()
    job.lease_owner = None
    job.lease_expires_at = None
    session.flush()
    session.refresh(job)
    record_event(
        session,
        organization_id=job.organization_id,
        type="kb.ingest.failed" if job.status == "failed" else "kb.ingest.completed",
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
