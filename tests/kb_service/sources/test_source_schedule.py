"""Scheduled syncs: one sync per slot, missed slots once, one claimer per sync, takeovers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kb_service.db.content import Document
from kb_service.db.sources import SourceSync, WebSource
from kb_service.runtime import Runtime
from kb_service.statuses import SyncStatus, SyncTrigger
from kb_service.workers.scheduler import Scheduler
from kb_service.workers.sources.worker import source_schedule
from retrieval.embedding import Embedder
from tests.kb_service.sources.site_server import Site, serve_site
from tests.kb_service.sources.source_support import (
    add_source,
    documents,
    new_kb,
    page_text,
    source_env,
    wait_job,
)
from tests.kb_service.webhook_support import FakeClock


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> Iterator[Any]:
    overrides = {"source_lease_seconds": 1.5}
    with (
        serve_site() as site,
        source_env(tmp_path, embedder, request.param, **overrides) as (runtime, client, headers),
    ):
        for name in ("one", "two", "three"):
            site.page(f"/{name}.html", name.title(), page_text(name))
        yield site, runtime, client, headers


def _syncs(runtime: Runtime, source_id: str) -> list[SourceSync]:
    with runtime.db.session() as session:
        return list(
            session.scalars(
                select(SourceSync)
                .where(SourceSync.source_id == source_id)
                .order_by(SourceSync.created_at)
            )
        )


def _finish_all(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        session.execute(update(SourceSync).values(status=SyncStatus.COMPLETED))


def _scheduled(client: Any, headers: dict, site: Site, minutes: int = 10) -> dict:
    kb_id = new_kb(client, headers)
    return add_source(
        client,
        headers,
        kb_id,
        type="sitemap",
        url=site.url("/sitemap.xml"),
        schedule={"interval_minutes": minutes},
    )


def test_each_slot_queues_one_sync_and_missed_slots_run_once(env: Any) -> None:
    site, runtime, client, headers = env
    source = _scheduled(client, headers, site)
    with runtime.db.session() as session:
        created = session.get(WebSource, source["id"]).created_at  # type: ignore[union-attr]
    clock = FakeClock()
    clock.now = created
    scheduler = Scheduler(runtime.db, [source_schedule()], poll_seconds=1, clock=clock)

    assert scheduler.tick() == 1  # the first slot is the creation time
    assert scheduler.tick() == 0  # ... and it is fired once
    [first] = _syncs(runtime, source["id"])
    assert first.trigger == SyncTrigger.SCHEDULE and first.scheduled_for == created
    clock.now = created + timedelta(minutes=9, seconds=59)
    assert scheduler.tick() == 0
    clock.now = created + timedelta(minutes=10)
    # the slot comes while the source's last sync is still queued: it is skipped
    assert scheduler.tick() == 1 and len(_syncs(runtime, source["id"])) == 1
    _finish_all(runtime)

    # the service was down for 55 minutes: five slots were missed, one sync runs
    clock.now = created + timedelta(minutes=65)
    assert scheduler.tick() == 1
    assert scheduler.tick() == 0
    syncs = _syncs(runtime, source["id"])
    assert len(syncs) == 2 and syncs[1].scheduled_for == created + timedelta(minutes=20)
    with runtime.db.session() as session:
        source_row = session.get(WebSource, source["id"])
        assert source_row is not None
        assert source_row.next_run_at == created + timedelta(minutes=70)


def test_two_schedulers_queue_one_sync_per_slot(env: Any) -> None:
    site, runtime, client, headers = env
    sources = [_scheduled(client, headers, site) for _ in range(5)]
    clock = FakeClock()
    clock.now = clock.now + timedelta(seconds=1)
    schedulers = [
        Scheduler(runtime.db, [source_schedule()], poll_seconds=1, clock=clock) for _ in range(2)
    ]
    fired: list[int] = []
    barrier = threading.Barrier(2)

    def tick(scheduler: Scheduler) -> None:
        barrier.wait()
        fired.append(scheduler.tick())

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 5
    assert [len(_syncs(runtime, s["id"])) for s in sources] == [1] * 5


def test_two_claimers_take_a_sync_once(env: Any) -> None:
    site, runtime, client, headers = env
    source = _scheduled(client, headers, site)
    client.post(f"/api/v1/sources/{source['id']}/sync", headers=headers)
    queue = runtime.source_syncer().queue
    claims: list[object] = []
    barrier = threading.Barrier(4)

    def claim(owner: str) -> None:
        barrier.wait()
        claims.append(queue.claim(owner))

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for c in claims if c is not None) == 1


def test_a_sync_whose_worker_died_is_taken_over_without_duplicates(env: Any) -> None:
    site, runtime, client, headers = env
    kb_id = new_kb(client, headers)
    source = add_source(client, headers, kb_id, type="sitemap", url=site.url("/sitemap.xml"))
    client.post(f"/api/v1/sources/{source['id']}/sync", headers=headers)
    syncer = runtime.source_syncer()
    dead = syncer.queue.claim("dead-worker")  # claimed, then its worker stops answering
    assert dead is not None
    assert syncer.queue.claim("other") is None  # its lease is still live
    time.sleep(1.7)
    taken = syncer.queue.claim("other")
    assert taken is not None and taken == (dead[0], 2)
    assert syncer.run(taken[0], "other", taken[1]) == SyncStatus.COMPLETED
    # the presumed-dead worker wakes up and finishes its plan: it applies nothing
    assert syncer.run(dead[0], "dead-worker", dead[1]) is None
    [sync] = _syncs(runtime, source["id"])
    assert sync.status == SyncStatus.COMPLETED and sync.pages_created == 3
    assert len(sync.ingest_job_ids) == 1
    wait_job(client, headers, sync.ingest_job_ids[0])
    assert len(documents(client, headers, kb_id)) == 3
    with runtime.db.session() as session:
        count = session.scalar(select(func.count()).select_from(Document))
    assert count == 3


def test_the_service_loops_sync_a_scheduled_source_by_themselves(
    tmp_path: Path, embedder: Embedder
) -> None:
    with (
        serve_site() as site,
        source_env(tmp_path, embedder, source_poll_seconds=0.1) as (runtime, client, headers),
    ):
        site.page("/only.html", "Only", page_text("only"))
        runtime.start_source_sync()
        source = _scheduled(client, headers, site, minutes=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = client.get(f"/api/v1/sources/{source['id']}", headers=headers).json()["data"]
            if found["last_sync"] and found["last_sync"]["status"] == "completed":
                break
            time.sleep(0.1)
        sync = found["last_sync"]
        assert sync["status"] == "completed" and sync["trigger"] == "schedule"
        assert found["next_run_at"] > sync["scheduled_for"]
        wait_job(client, headers, sync["ingest_job_ids"][0])
        assert list(documents(client, headers, found["knowledge_base_id"])) == [
            site.url("/only.html")
        ]


def test_a_stopping_worker_hands_its_sync_back_unapplied(env: Any) -> None:
    site, runtime, client, headers = env
    kb_id = new_kb(client, headers)
    source = add_source(client, headers, kb_id, type="sitemap", url=site.url("/sitemap.xml"))
    client.post(f"/api/v1/sources/{source['id']}/sync", headers=headers)
    syncer = runtime.source_syncer()
    claimed = syncer.queue.claim("leaving")
    assert claimed is not None
    pages_seen = []

    def stopping() -> bool:
        pages_seen.append(1)
        return len(pages_seen) >= 2  # shut down after the second page

    assert syncer.run(claimed[0], "leaving", claimed[1], stopping=stopping) is None
    [sync] = _syncs(runtime, source["id"])
    assert sync.status == SyncStatus.QUEUED and sync.attempts == 0 and sync.lease_owner is None
    assert sync.ingest_job_ids == [] and sync.pages_fetched == 0
    # the next worker takes it at once, without waiting for a lease to expire
    again = syncer.queue.claim("next")
    assert again == (sync.id, 1)
    assert syncer.run(again[0], "next", again[1]) == SyncStatus.COMPLETED
