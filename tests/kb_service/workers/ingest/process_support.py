"""Real `kb-service serve` / `worker` processes on a job submitted in this process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings
from retrieval.embedding import Embedder


@dataclass
class SubmittedJob:
    settings: Settings
    job_id: str
    item_ids: list[str]
    db: Database  # metadata only: the processes own the embedded vector index

    def job(self) -> IngestJob:
        with self.db.session() as session:
            job = session.get(IngestJob, self.job_id)
            assert job is not None
            return job

    def items(self) -> list[IngestItem]:
        with self.db.session() as session:
            return [item for i in self.item_ids if (item := session.get(IngestItem, i))]

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            **os.environ,
            "KB_DATA_DIR": str(self.settings.storage.data_dir),
            "KB_WORKER_POLL_SECONDS": "0.1",
            "KB_JOB_LEASE_SECONDS": str(self.settings.ingest.job_lease_seconds),
            "HF_HUB_OFFLINE": "1",
            **extra,
        }
        if self.settings.storage.database_url:
            values["KB_DATABASE_URL"] = self.settings.storage.database_url
        return values


def submit(settings: Settings, embedder: Embedder, files: list[tuple[str, bytes]]) -> SubmittedJob:
    """Queue one job of `files`, then close the runtime (the processes open the index)."""
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        org = get_or_create_organization(runtime.db, name="acme")
        kb = knowledge_bases.create_knowledge_base(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="docs"
        ).knowledge_base
        submitted = ingestion.submit_ingest(
            runtime.db,
            organization_id=org.id,
            kb_id=kb.id,
            uploads=[ingestion.Upload(name, data) for name, data in files],
        )
        job_id = submitted.job.id
        item_ids = [item.id for item in submitted.items]
    finally:
        runtime.close()
    return SubmittedJob(settings, job_id, item_ids, Database(settings.resolved_database_url))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`kb-service COMMAND...` as a child process, its output in `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kb_service.cli", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
