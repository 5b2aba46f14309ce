"""Submitting ingest jobs: uploads and JSON text records become durable job items."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.errors import InvalidInput, NotFound
from kb_service.observability import ingest as observe
from kb_service.services.knowledge_bases import load_kb
from kb_service.services.uploads import (
    TextRecord,
    Upload,
    check_source_url,
    safe_filename,
    safe_media_type,
    split_record_files,
)
from kb_service.statuses import JobStatus
from kb_service.strict_json import checked_metadata

MAX_DOCUMENTS_PER_JOB = 1000


@dataclass(frozen=True)
class IngestJobWithItems:
    """An ingest job and its items (one per submitted document), in submission order."""

    job: IngestJob
    items: list[IngestItem]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def submit_ingest(
    db: Database,
    *,
    organization_id: str,
    kb_id: str,
    uploads: Sequence[Upload] = (),
    records: Sequence[TextRecord] = (),
    metadata: dict[str, Any] | None = None,
) -> IngestJobWithItems:
    """Queue one job for all the given sources; the bytes are stored with the job.

    `metadata` applies to every source; a text record's own metadata wins over it. Both
    keep the metadata limits of `strict_json` (else `InvalidInput`/`PayloadTooLarge`).
    A JSON records file among the uploads becomes its records, an email is followed by
    its attachments (`split_record_files`).
    """
    checked_metadata(metadata or {})
    uploads, from_files = split_record_files(uploads)
    records = [*records, *from_files]
    for position, record in enumerate(records):
        checked_metadata(record.metadata, field=f"documents.{position}.metadata")
        check_source_url(record.source_url, field=f"documents.{position}.source_url")
    with db.session() as session:
        queued = _add_job(session, organization_id, kb_id, uploads, records, metadata or {})
        job_id, documents = queued.job.id, len(queued.items)
    observe.job_transition(
        job_id,
        status="queued",
        reason="submitted",
        organization_id=organization_id,
        knowledge_base_id=kb_id,
        documents_total=documents,
    )
    return queued


def queue_records(
    session: Session, *, organization_id: str, kb_id: str, records: Sequence[TextRecord]
) -> IngestJobWithItems:
    """Queue one job of text records inside the caller's transaction (a source sync's)."""
    return _add_job(session, organization_id, kb_id, (), records, {})


def _add_job(
    session: Session,
    organization_id: str,
    kb_id: str,
    uploads: Sequence[Upload],
    records: Sequence[TextRecord],
    shared: dict[str, Any],
) -> IngestJobWithItems:
    kb = load_kb(session, organization_id=organization_id, kb_id=kb_id)
    total = len(uploads) + len(records)
    if total == 0:
        raise InvalidInput("Send at least one file or text document to ingest.")
    if total > MAX_DOCUMENTS_PER_JOB:
        raise InvalidInput(
            f"One job takes at most {MAX_DOCUMENTS_PER_JOB} documents; split the upload."
        )
    now = utcnow()
    job = IngestJob(
        organization_id=organization_id,
        knowledge_base_id=kb.id,
        status=JobStatus.QUEUED,
        documents_total=total,
        created_at=now,
    )
    session.add(job)
    session.flush()
    wake_after_commit(session, Wake.INGEST)
    items = [
        IngestItem(
            job_id=job.id,
            filename=safe_filename(upload.filename),
            media_type=safe_media_type(upload.media_type),
            metadata_={**shared, **upload.metadata},
            content=upload.content,
            content_hash=_sha256(upload.content),
        )
        for upload in uploads
    ] + [
        IngestItem(
            job_id=job.id,
            title=record.title,
            source_url=record.source_url,
            external_id=record.external_id,
            filename=None,
            metadata_={**shared, **record.metadata},
            text=record.text,
            content_hash=_sha256(record.text.encode()),
        )
        for record in records
    ]
    for position, item in enumerate(items):
        item.position = position
    session.add_all(items)
    session.flush()
    return IngestJobWithItems(job, items)


def get_job(db: Database, *, organization_id: str, job_id: str) -> IngestJobWithItems:
    """An ingest job of the organization with its items (else `NotFound`)."""
    with db.session() as session:
        job = session.get(IngestJob, job_id)
        if job is None or job.organization_id != organization_id:
            raise NotFound.of("ingest job", job_id)
        return IngestJobWithItems(job, job_items(session, job_id=job.id))


def job_items(session: Session, *, job_id: str) -> list[IngestItem]:
    """The job's items in submission order, inside the caller's transaction."""
    return list(
        session.scalars(
            select(IngestItem).where(IngestItem.job_id == job_id).order_by(IngestItem.position)
        ).all()
    )


def item_view(item: IngestItem) -> dict[str, Any]:
    """One document of a job as the API and the `kb.ingest.*` events show it."""
    return {
        "filename": item.filename,
        "title": item.title,
        "external_id": item.external_id,
        "status": item.status,
        "document_id": item.document_id,
        "version": item.document_version,
        "chunk_count": item.chunk_count,
        "error": item.error,
    }
