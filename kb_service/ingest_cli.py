"""`kb-service ingest PATH... --kb NAME`: the same job pipeline, run in this process."""

from __future__ import annotations

import threading
from pathlib import Path

from tqdm import tqdm

from kb_service.db.jobs import IngestItem
from kb_service.jobs.worker import WorkerPool, worker_identity
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import load_settings


def collect_files(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every non-hidden file under named folders, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return files


def ingest_paths(paths: list[Path], *, kb_name: str, org_name: str) -> int:
    try:
        files = collect_files(paths)
    except FileNotFoundError as exc:
        print(f"kb-service: {exc}")
        return 2
    if not files:
        print("kb-service: no files to ingest")
        return 1
    runtime = Runtime.build(load_settings())
    try:
        with runtime.db.session() as session:
            org = get_or_create_organization(session, name=org_name)
            kb = knowledge_bases.kb_by_name(
                session, organization_id=org.id, pipeline=runtime.pipeline, name=kb_name
            )
            org_id, kb_id = org.id, kb.id
        job_ids = []
        for start in range(0, len(files), ingestion.MAX_DOCUMENTS_PER_JOB):
            batch = files[start : start + ingestion.MAX_DOCUMENTS_PER_JOB]
            with runtime.db.session() as session:
                job = ingestion.submit_ingest(
                    session,
                    organization_id=org_id,
                    kb_id=kb_id,
                    uploads=[ingestion.Upload(p.name, p.read_bytes()) for p in batch],
                )
                job_ids.append(job.id)
        return _run_with_progress(runtime, org_id, job_ids, len(files), kb_name)
    finally:
        runtime.close()


def _run_with_progress(
    runtime: Runtime, org_id: str, job_ids: list[str], total: int, kb_name: str
) -> int:
    worker_id = worker_identity()
    done = threading.Event()

    pool = WorkerPool(queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1)

    def drain() -> None:
        try:
            while pool.run_once(worker_id):
                pass
        finally:
            done.set()

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    failed: list[IngestItem] = []
    with tqdm(total=total, unit="doc", desc=f"ingest → {kb_name}") as bar:
        while True:
            finished = done.wait(0.25)
            with runtime.db.session() as session:
                jobs = [
                    ingestion.get_job(session, organization_id=org_id, job_id=j) for j in job_ids
                ]
                bar.n = sum(j.documents_done for j in jobs)
                bar.set_postfix(chunks=sum(j.chunks_indexed for j in jobs))
                bar.refresh()
                if finished:
                    items = [i for j in jobs for i in ingestion.job_items(session, job_id=j.id)]
                    failed = [i for i in items if i.status == "failed"]
                    break
    for item in failed:
        print(f"  failed: {item.filename}: {item.error}")
    print(f"kb-service: {total - len(failed)} of {total} documents ingested into {kb_name!r}")
    return 1 if failed else 0
