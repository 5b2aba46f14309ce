"""What the ingest worker records: stage timings, document outcomes, job transitions.

Counters move only after the transaction that decided them committed, so a job
retried after a lost lease is not counted twice for the work it redoes. Every job
transition is one structured log line (`event: job_transition`) with the job id, the
status it moved to and why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ingest.pipeline import PreparedDocument
from kb_service.db.jobs import IngestJob
from kb_service.observability.logs import log_event
from kb_service.observability.metrics import (
    INGEST_CHUNKS,
    INGEST_DOCUMENTS,
    INGEST_JOBS_FINISHED,
    INGEST_STAGE_DURATION,
)

log = logging.getLogger("kb_service.jobs")

UNKNOWN_SOURCE = "unknown"  # an item that failed or was unchanged before it was parsed

_stage = {
    s: INGEST_STAGE_DURATION.labels(s) for s in ("parse", "chunk", "embed", "index", "commit")
}


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as ingestion stage `name` (embed, index, commit)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _stage[name].observe(time.perf_counter() - started)


def prepared(document: PreparedDocument) -> None:
    """The parse and chunk durations measured where the document was prepared."""
    _stage["parse"].observe(document.parse_seconds)
    _stage["chunk"].observe(document.chunk_seconds)


def document_done(outcome: str, source_type: str = UNKNOWN_SOURCE, chunks: int = 0) -> None:
    """A document's committed outcome: indexed, unchanged, superseded or failed."""
    INGEST_DOCUMENTS.labels(outcome, source_type).inc()
    if chunks:
        INGEST_CHUNKS.labels(outcome, source_type).inc(chunks)


def job_transition(job_id: str, status: str, reason: str, **fields: Any) -> None:
    """Job `job_id` moved to `status` (queued, running, completed, ...) because of `reason`."""
    if status in ("completed", "failed", "partially_failed"):
        INGEST_JOBS_FINISHED.labels(status).inc()
    log_event(log, "job_transition", job_id=job_id, status=status, reason=reason, **fields)


def finished_fields(job: IngestJob) -> dict[str, Any]:
    """A finished job's fields for its transition line (read before its session closes)."""
    return {
        "status": str(job.status),
        "organization_id": job.organization_id,
        "knowledge_base_id": job.knowledge_base_id,
        "documents_total": job.documents_total,
        "chunks_indexed": job.chunks_indexed,
    }
