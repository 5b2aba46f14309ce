"""A worker killed with SIGKILL mid-job: the lease expires, another worker finishes the job.

Real `kb-service worker` processes, real SQLite or PostgreSQL, real Qdrant Edge, real model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb_service.db.content import Chunk, Document
from kb_service.db.events import Event
from kb_service.db.jobs import IngestJob
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.statuses import JobStatus
from retrieval.index import PointFilter
from tests.conftest import make_settings, postgres_url_or_skip

DOCS = 40
LEASE = 3.0


def _paragraphs(n: int) -> str:
    return "\n\n".join(
        f"Record {n}-{i}: the maintenance window for cluster {n} moves to {i} o'clock. "
        "Operators must drain nodes first, then confirm replication lag is below one second. " * 3
        for i in range(12)
    )


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kb_service.cli", "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkilled_worker_job_is_finished_by_another_without_loss_or_duplicates(
    backend: str, tmp_path: Path, embedder
) -> None:
    overrides = {"job_lease_seconds": LEASE}
    if backend == "postgresql":
        overrides["database_url"] = postgres_url_or_skip().replace("+psycopg", "")
    settings = make_settings(tmp_path, **overrides)
    env = {
        **os.environ,
        "KB_DATA_DIR": str(settings.storage.data_dir),
        "KB_JOB_LEASE_SECONDS": str(LEASE),
        "KB_WORKER_POLL_SECONDS": "0.1",
        "HF_HUB_OFFLINE": "1",
    }
    if settings.storage.database_url:
        env["KB_DATABASE_URL"] = settings.storage.database_url

    # Submit the job with the same pipeline, then release the embedded index for the workers.
    runtime = Runtime.build(settings, embedder=embedder)
    org = get_or_create_organization(runtime.db, name="acme")
    kb = knowledge_bases.create_knowledge_base(
        runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="ops"
    ).knowledge_base
    submitted = ingestion.submit_ingest(
        runtime.db,
        organization_id=org.id,
        kb_id=kb.id,
        records=[
            ingestion.TextRecord(text=_paragraphs(n), title=f"Runbook {n}") for n in range(DOCS)
        ],
    )
    job_id, kb_id = submitted.job.id, kb.id
    runtime.close()

    def progress() -> IngestJob:
        with runtime.db.session() as session:
            found = session.get(IngestJob, job_id)
            assert found is not None
            return found

    runtime.db = type(runtime.db)(settings.resolved_database_url)  # reopen metadata only
    first = _worker(env)
    try:
        # Deadlines, not budgets: a worker process loads torch and the model before it starts,
        # which on 2 busy cores can take minutes.
        _wait(lambda: progress().documents_done >= 3, 420, "the first worker to make progress")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = progress()
        assert killed_at.status == "running" and killed_at.documents_done < DOCS
    finally:
        if first.poll() is None:
            first.kill()

    second = _worker(env)
    try:
        _wait(
            lambda: progress().status in JobStatus.terminal(),
            600,
            "the job to finish",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    final = progress()
    assert final.status == "completed", final.error
    assert final.attempts >= 2
    assert final.documents_done == DOCS
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == DOCS
        chunk_rows = session.scalar(select(func.count()).select_from(Chunk))
        assert chunk_rows == session.scalar(select(func.sum(Document.chunk_count)))
        assert final.chunks_indexed == chunk_rows  # progress counts committed documents only
        events = session.scalars(select(Event).where(Event.type == "kb.ingest.completed")).all()
        assert len(events) == 1
    runtime.db.dispose()

    from retrieval.index.edge import EdgeVectorIndex

    index = EdgeVectorIndex(settings.qdrant_edge_path, embedder.dimension)
    try:
        assert index.count(PointFilter.where(knowledge_base_id=kb_id)) == chunk_rows
    finally:
        index.close()
