"""Submitting ingest jobs: uploads and JSON text records become durable job items."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.errors import InvalidInput, NotFound
from kb_service.services.knowledge_bases import load_kb
from kb_service.statuses import JobStatus
from kb_service.strict_json import checked_metadata

MAX_DOCUMENTS_PER_JOB = 1000
MAX_SOURCE_URL_LENGTH = 2000  # the documents' and items' `source_url` columns
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
# RFC 6838 type/subtype names (at most 127 characters each)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content: bytes
    media_type: str | None = None


@dataclass(frozen=True)
class TextRecord:
    text: str
    title: str | None = None
    source_url: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestJobWithItems:
    """An ingest job and its items (one per submitted document), in submission order."""

    job: IngestJob
    items: list[IngestItem]


def safe_filename(name: str | None) -> str:
    """The last path component, without control or reserved characters, at most 255 chars.

    "../../etc/passwd" becomes "passwd"; "C:\\x\\report.pdf" becomes "report.pdf".
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 10 else name[:255]
    return name or "upload"


def safe_media_type(value: str | None) -> str | None:
    """The declared `type/subtype` (lowercase, parameters dropped), or None if malformed.

    A declared media type is only a hint (formats are detected from the file name and
    bytes too), so an unreadable one is ignored rather than refused.
    """
    essence = (value or "").split(";", 1)[0].strip().lower()
    return essence if _MEDIA_TYPE.fullmatch(essence) else None


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
    """
    checked_metadata(metadata or {})
    for position, record in enumerate(records):
        checked_metadata(record.metadata, field=f"documents.{position}.metadata")
        _check_source_url(record.source_url, field=f"documents.{position}.source_url")
    with db.session() as session:
        return _add_job(session, organization_id, kb_id, uploads, records, metadata or {})


def _check_source_url(url: str | None, *, field: str) -> None:
    if url is not None and len(url) > MAX_SOURCE_URL_LENGTH:
        problem = (
            f"at most {MAX_SOURCE_URL_LENGTH} characters are allowed "
            f"(this URL has {len(url)} once normalised)"
        )
        raise InvalidInput(
            f"{field}: {problem}",
            errors=[{"field": field, "message": problem, "type": "string_too_long"}],
        )


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
            metadata_=dict(shared),
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
