"""Ingestion throughput with 1 and with 2 worker threads (the `KB_IN_PROCESS_WORKERS` choice).

Two organizations each queue half of `--docs` SciFact abstracts (Markdown files) as one
job; the real worker pool (threads, parser processes, model, Qdrant Edge, SQLite)
drains both. Prints documents/s for each worker count, measured in one session.

    .venv/bin/python -m benchmarks.ingest_workers [--docs 600]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks._corpus import scifact_documents
from benchmarks._ingest import warm_runtime
from kb_service.db.jobs import IngestJob
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.statuses import JobStatus


def _run(files: list[tuple[str, bytes]], workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = warm_runtime(Path(tmp))
        half = len(files) // 2
        job_ids = []
        for name, part in (("a", files[:half]), ("b", files[half:])):
            org = get_or_create_organization(runtime.db, name=name)
            kb = knowledge_bases.create_knowledge_base(
                runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name=name
            ).knowledge_base
            submitted = ingestion.submit_ingest(
                runtime.db,
                organization_id=org.id,
                kb_id=kb.id,
                uploads=[ingestion.Upload(n, d) for n, d in part],
            )
            job_ids.append(submitted.job.id)
        started = time.perf_counter()
        runtime.start_workers(workers)
        while True:
            with runtime.db.session() as session:
                jobs = [session.get(IngestJob, j) for j in job_ids]
                if all(j is not None and j.status in JobStatus.terminal() for j in jobs):
                    break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        runtime.close()
    return len(files) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=600)
    args = parser.parse_args()
    files = scifact_documents(args.docs)
    runs = [{"workers": n, "docs_per_s": round(_run(files, n), 1)} for n in (1, 2, 1, 2)]
    print(json.dumps({"documents": len(files), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
