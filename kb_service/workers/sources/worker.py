"""The source sync loop and the web sources' schedule.

`SourceSyncWorker` lanes claim queued syncs (`queue.SyncQueue`) and run them
(`sync.SourceSyncer`). `source_schedule()` is the `workers.scheduler.Schedule` of
web sources: a due slot queues a sync (`services.sources.queue_scheduled_sync`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kb_service.db.sources import WebSource
from kb_service.schedules import next_slot
from kb_service.services.sources import queue_scheduled_sync
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.scheduler import Schedule
from kb_service.workers.sources.queue import SyncQueue
from kb_service.workers.sources.sync import SourceSyncer


def source_schedule() -> Schedule:
    """Slots every `interval_minutes` from the source's creation."""
    return Schedule(
        name="web sources",
        model=WebSource,
        next_after=_next_sync,
        fire=queue_scheduled_sync,
    )


def _next_sync(source: WebSource, now: datetime) -> datetime | None:
    if not source.interval_minutes:
        return None
    return next_slot(source.created_at, timedelta(minutes=source.interval_minutes), now)


class SourceSyncWorker(PollingWorker):
    """Lanes that each claim one sync at a time and run it to the end."""

    def __init__(
        self, *, queue: SyncQueue, syncer: SourceSyncer, count: int, poll_seconds: float
    ) -> None:
        lanes = [Lane.new(f"kb-source-sync-{n}") for n in range(count)]
        super().__init__(lanes=lanes, poll_seconds=poll_seconds)
        self.queue = queue
        self.syncer = syncer

    def work(self, lane: Lane) -> bool:
        claimed = self.queue.claim(lane.owner)
        if claimed is None:
            return False
        sync_id, attempts = claimed
        self.syncer.run(sync_id, lane.owner, attempts, stopping=lambda: self.stopping)
        return True
