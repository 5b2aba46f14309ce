"""A `kb-service worker` killed with SIGKILL mid-sync: nothing applied, another finishes it.

Real worker processes, real SQLite, a real loopback site whose slow page holds the
first worker inside its sync until it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from kb_service.db.content import Document
from kb_service.db.events import Event
from kb_service.db.jobs import IngestJob
from kb_service.db.sources import SourcePage, SourceSync
from kb_service.runtime import Runtime
from kb_service.services import knowledge_bases, sources
from kb_service.services.keys import get_or_create_organization
from kb_service.sources.fetch import UrlGuard
from kb_service.statuses import JobStatus, SourceType, SyncStatus
from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.sources.site_server import serve_site
from tests.kb_service.sources.source_support import page_text

LEASE = 3.0
PAGES = ["/one.html", "/two.html", "/slow.html", "/four.html"]


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


def test_a_sync_killed_midway_is_finished_by_another_worker_once(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path, source_lease_seconds=LEASE)
    env = {
        **os.environ,
        "KB_DATA_DIR": str(settings.storage.data_dir),
        "KB_WEBHOOK_ALLOW_PRIVATE": "true",
        "KB_SOURCE_LEASE_SECONDS": str(LEASE),
        "KB_SOURCE_POLL_SECONDS": "0.1",
        "KB_SOURCE_FETCH_TIMEOUT_SECONDS": "600",
        "KB_WORKER_POLL_SECONDS": "0.1",
        "HF_HUB_OFFLINE": "1",
    }
    with serve_site() as site:
        for path in PAGES:
            site.page(path, path.strip("/"), page_text(path.strip("/.").replace(".html", "")))
        site.pages["/slow.html"].delay = 600.0  # holds the first worker mid-sync
        runtime = Runtime.build(settings, embedder=embedder)
        org = get_or_create_organization(runtime.db, name="acme")
        kb = knowledge_bases.create_knowledge_base(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="web"
        ).knowledge_base
        source = sources.create_source(
            runtime.db,
            organization_id=org.id,
            kb_id=kb.id,
            type=SourceType.SITEMAP,
            url=site.url("/sitemap.xml"),
            interval_minutes=None,
            include=[],
            exclude=[],
            max_pages=100,
            guard=UrlGuard.of(True),
        ).source
        sync_id = sources.request_sync(runtime.db, organization_id=org.id, source_id=source.id).id
        runtime.close()
        db = type(runtime.db)(settings.resolved_database_url)  # metadata only

        def sync() -> SourceSync:
            with db.session() as session:
                found = session.get(SourceSync, sync_id)
                assert found is not None
                return found

        first = _worker(env)
        try:
            # a worker process loads torch and the model first: minutes on 2 busy cores
            _wait(lambda: site.requested("/slow.html") >= 1, 420, "the sync to reach /slow")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        killed = sync()
        assert killed.status == SyncStatus.RUNNING and killed.attempts == 1
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(SourcePage)) == 0
            assert session.scalar(select(func.count()).select_from(IngestJob)) == 0

        site.pages["/slow.html"].delay = 0.0
        second = _worker(env)
        try:
            _wait(lambda: sync().status == SyncStatus.COMPLETED, 600, "the sync to finish")
            [job_id] = sync().ingest_job_ids

            def ingested() -> bool:
                with db.session() as session:
                    job = session.get(IngestJob, job_id)
                    return job is not None and job.status in JobStatus.terminal()

            _wait(ingested, 600, "its ingest job to finish")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)

    done = sync()
    assert done.attempts == 2 and done.pages_created == len(PAGES)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == len(PAGES)
        assert session.scalar(select(func.count()).select_from(SourcePage)) == len(PAGES)
        synced = session.scalars(select(Event).where(Event.type == "source.synced")).all()
        assert [e.data["id"] for e in synced] == [sync_id]
    db.dispose()
