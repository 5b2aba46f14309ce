"""Ingest job status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, Reader
from kb_service.api.envelope import Envelope, ok
from kb_service.api.schemas import IngestJobOut
from kb_service.services import ingestion

router = APIRouter(prefix="/ingest-jobs", tags=["ingestion"])


@router.get("/{job_id}", response_model=Envelope[IngestJobOut])
def get_ingest_job(job_id: str, principal: Reader, db: DB) -> Any:
    """An ingest job's status, progress and per-document outcome."""
    with db.session() as session:
        job = ingestion.get_job(session, organization_id=principal.organization_id, job_id=job_id)
        items = ingestion.job_items(session, job_id=job.id)
        return ok(IngestJobOut.of(job, items).model_dump(mode="json"))
