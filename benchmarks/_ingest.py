"""In-process ingestion for benchmarks: the real job queue, processor, pipeline and index."""

from __future__ import annotations

import time
from pathlib import Path

from ingest.documents import SourceFile
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool

JOB_SIZE = 1000


def warm_runtime(data_dir: Path) -> Runtime:
    """The embedded runtime on `data_dir`, with parsers and model loaded before timing."""
    runtime = Runtime.build(Settings.from_env(data_dir=data_dir))
    runtime.pipeline.warm_up()
    # a parser process (and the fork server it comes from) ready, as in a running service
    runtime.processor.preparer.parsers.prepare_file(
        SourceFile("warm-up.md", b"# Warm up\n\nThe parsers."), runtime.pipeline.default_chunking()
    )
    runtime.embedder.embed_documents(["warm up the model"] * 8)
    return runtime


def new_kb(runtime: Runtime, name: str) -> tuple[str, str]:
    """(organization id, knowledge base id) of a knowledge base with default chunking."""
    org = get_or_create_organization(runtime.db, name="bench")
    kb = knowledge_bases.kb_by_name(
        runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name=name
    )
    return org.id, kb.id


def ingest(runtime: Runtime, org_id: str, kb_id: str, files: list[tuple[str, bytes]]) -> float:
    """Submit `files` as jobs of JOB_SIZE uploads, run them to completion; wall seconds."""
    pool = WorkerPool(queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1)
    started = time.perf_counter()
    for start in range(0, len(files), JOB_SIZE):
        ingestion.submit_ingest(
            runtime.db,
            organization_id=org_id,
            kb_id=kb_id,
            uploads=[ingestion.Upload(n, d) for n, d in files[start : start + JOB_SIZE]],
        )
    worker = worker_identity()
    while pool.run_once(worker):
        pass
    return time.perf_counter() - started
