"""`kb-service ingest PATH... --kb NAME`: the same job pipeline, for this command's jobs only.

The command queues its files as ingest jobs (filled by documents: a JSON records file
is one per record, `ingest_batches.py`), then sees exactly those jobs through: it
claims each one that is still claimable (queued, or running under an expired lease)
and processes it in this process; a job that a standalone worker took is waited for
by polling its row. Other jobs in the queue are never touched. The
summary counts come from the final status of every document. Transcript files become
meetings of the knowledge base's project instead (`ingest_meetings.py`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from tqdm import tqdm

from kb_service.cli.ingest_batches import plan_batches
from kb_service.cli.ingest_meetings import import_meetings, split_meeting_files
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import load_settings
from kb_service.statuses import ItemStatus, JobStatus
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.queue import LeaseLost

log = logging.getLogger(__name__)

TERMINAL = JobStatus.terminal()
INGESTED = ItemStatus.ingested()
PROGRESS_SECONDS = 0.25


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
    """Ingest the files (folders are walked) into `kb_name`; 0 when any document made it in."""
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
        org = get_or_create_organization(runtime.db, name=org_name)
        kb = knowledge_bases.kb_by_name(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name=kb_name
        )
        org_id, kb_id = org.id, kb.id
        documents, transcripts = split_meeting_files(files)
        code = 1
        if documents:
            plan = plan_batches(documents)
            jobs: list[tuple[str, list[str]]] = []
            for batch in plan.batches:
                submitted = ingestion.submit_ingest(
                    runtime.db, organization_id=org_id, kb_id=kb_id, uploads=batch.uploads
                )
                jobs.append((submitted.job.id, batch.labels))
            code = _run_with_progress(runtime, jobs, kb_name, plan.refused)
        if transcripts and code != 130:
            meetings = import_meetings(
                runtime, organization_id=org_id, project_id=kb.project_id, paths=transcripts
            )
            for path, reason in meetings.failed:
                print(f"  failed: {path}: {reason}")
            print(
                f"kb-service: {len(meetings.indexed)} of {len(transcripts)} transcripts "
                "imported and indexed as meetings"
                + (" of the knowledge base's project" if kb.project_id else "")
            )
            if meetings.indexed and code == 1:
                code = 0
        return code
    finally:
        runtime.close()


def _unfinished(runtime: Runtime, job_ids: list[str]) -> list[str]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(IngestJob.id, IngestJob.status).where(IngestJob.id.in_(job_ids))
        ).all()
    status = dict(rows)
    return [j for j in job_ids if status.get(j) not in TERMINAL]


def _work_own_jobs(runtime: Runtime, job_ids: list[str], stop: threading.Event) -> None:
    """Process this command's jobs that nobody else holds, until all of them are finished."""
    worker_id = worker_identity()
    while not stop.is_set():
        claimed = False
        try:
            open_ids = _unfinished(runtime, job_ids)
            if not open_ids:
                return
            for job_id in open_ids:
                if stop.is_set() or not runtime.queue.claim_job(job_id, worker_id):
                    continue
                claimed = True
                try:
                    runtime.processor.process(job_id, worker_id)
                except LeaseLost:
                    log.warning("lost the lease on %s; another worker owns it now", job_id)
        except Exception:
            # Like a worker thread: the job's lease expires and it is claimed again.
            log.exception("ingest in this process failed; retrying when the lease expires")
        if not claimed:  # the rest are held by other workers: poll their rows
            stop.wait(runtime.settings.ingest.worker_poll_seconds)


@dataclass
class _Progress:
    finished: bool
    documents_done: int
    chunks_indexed: int
    failed: int


def _progress(runtime: Runtime, job_ids: list[str]) -> _Progress:
    with runtime.db.session() as session:
        jobs = session.execute(
            select(IngestJob.status, IngestJob.documents_done, IngestJob.chunks_indexed).where(
                IngestJob.id.in_(job_ids)
            )
        ).all()
        failed = session.scalar(
            select(func.count()).where(
                IngestItem.job_id.in_(job_ids), IngestItem.status == ItemStatus.FAILED
            )
        )
    return _Progress(
        finished=len(jobs) == len(job_ids) and all(j.status in TERMINAL for j in jobs),
        documents_done=sum(j.documents_done for j in jobs),
        chunks_indexed=sum(j.chunks_indexed for j in jobs),
        failed=failed or 0,
    )


def _run_with_progress(
    runtime: Runtime,
    jobs: list[tuple[str, list[str]]],
    kb_name: str,
    refused: list[tuple[str, str]],
) -> int:
    job_ids = [job_id for job_id, _ in jobs]
    total = sum(len(labels) for _, labels in jobs)
    stop = threading.Event()
    driver = threading.Thread(
        target=_work_own_jobs, args=(runtime, job_ids, stop), name="kb-ingest", daemon=True
    )
    driver.start()
    try:
        with tqdm(total=total, unit="doc", desc=f"ingest → {kb_name}") as bar:
            while True:
                progress = _progress(runtime, job_ids)
                bar.n = progress.documents_done
                bar.set_postfix(chunks=progress.chunks_indexed, failed=progress.failed)
                bar.refresh()
                if progress.finished and not driver.is_alive():
                    break
                driver.join(PROGRESS_SECONDS)
    except KeyboardInterrupt:
        stop.set()
        print(
            f"kb-service: interrupted; job(s) {', '.join(_unfinished(runtime, job_ids))} "
            "finish when a worker (kb-service serve or worker) takes them over"
        )
        return 130
    return _report(runtime, jobs, kb_name, refused)


def _report(
    runtime: Runtime,
    jobs: list[tuple[str, list[str]]],
    kb_name: str,
    refused: list[tuple[str, str]],
) -> int:
    """Print each failed document with its error and the true counts; 1 when none made it."""
    with runtime.db.session() as session:  # finished items no longer hold their bytes
        items = {
            (item.job_id, item.position): (item.status, item.error)
            for job_id, _ in jobs
            for item in ingestion.job_items(session, job_id=job_id)
        }
    counts: Counter[str] = Counter()
    for path, reason in refused:
        counts["failed"] += 1
        print(f"  failed: {path}: {reason}")
    for job_id, labels in jobs:
        for position, label in enumerate(labels):
            status, error = items.get((job_id, position), ("missing", None))
            if status in INGESTED:
                counts[status] += 1
            else:
                counts["failed"] += 1
                print(f"  failed: {label}: {error or f'not processed ({status})'}")
    total = sum(len(labels) for _, labels in jobs) + len(refused)
    ingested = sum(counts[status] for status in INGESTED)
    summary = f"kb-service: {ingested} of {total} documents ingested into {kb_name!r}"
    if counts["unchanged"]:
        summary += f" ({counts['unchanged']} unchanged)"
    if counts["failed"]:
        summary += f"; {counts['failed']} failed"
    print(summary)
    return 0 if ingested else 1
