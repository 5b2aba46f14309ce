"""Ingestion: queue files or text records into a knowledge base; read an ingest job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from kb_service.api.deps import DB, Reader, Writer
from kb_service.api.envelope import Envelope, ok
from kb_service.api.ingest_body import read_ingest_body
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.ingest import IngestJobOut
from kb_service.services import ingestion

router = APIRouter(route_class=StrictJsonRoute)

_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "metadata": {
                            "type": "string",
                            "description": "JSON object applied to every file",
                        },
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TextIngestIn"}},
        },
    }
}


@router.post(
    "/knowledge-bases/{kb_id}/ingest",
    status_code=202,
    response_model=Envelope[IngestJobOut],
    openapi_extra=_INGEST_BODY,
    tags=["knowledge bases"],
)
async def ingest(kb_id: str, request: Request, principal: Writer, db: DB) -> Any:
    """Queue files (multipart `files`) or JSON text documents for ingestion; returns the job."""
    body = await read_ingest_body(request)
    submitted = await run_in_threadpool(
        ingestion.submit_ingest,
        db,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        uploads=body.uploads,
        records=body.records,
        metadata=body.metadata,
    )
    return ok(IngestJobOut.of(submitted).model_dump(mode="json"))


@router.get("/ingest-jobs/{job_id}", response_model=Envelope[IngestJobOut], tags=["ingestion"])
def get_ingest_job(job_id: str, principal: Reader, db: DB) -> Any:
    """An ingest job's status, progress and per-document outcome."""
    job = ingestion.get_job(db, organization_id=principal.organization_id, job_id=job_id)
    return ok(IngestJobOut.of(job).model_dump(mode="json"))
