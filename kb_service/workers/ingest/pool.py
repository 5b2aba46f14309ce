"""Ingest worker threads: claim a job, process it, repeat; idle workers poll."""

from __future__ import annotations

import logging

from kb_service.observability import ingest as observe
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.ingest.processor import JobProcessor
from kb_service.workers.ingest.queue import JobQueue, LeaseLost

log = logging.getLogger(__name__)


class WorkerPool(PollingWorker):
    """`count` threads draining the job queue until `stop()`."""

    after_failure = "the job's lease will expire and be retried"

    def __init__(
        self, *, queue: JobQueue, processor: JobProcessor, count: int, poll_seconds: float
    ) -> None:
        super().__init__(
            lanes=[Lane.new(f"kb-worker-{n}") for n in range(count)], poll_seconds=poll_seconds
        )
        self.queue = queue
        self.processor = processor
        self.count = count

    def work(self, lane: Lane) -> bool:
        return self.run_once(lane.owner)

    def run_once(self, worker_id: str) -> bool:
        """Claim and process one job; False when the queue was empty."""
        job_id = self.queue.claim(worker_id)
        if job_id is None:
            return False
        observe.job_transition(job_id, status="running", reason="claimed", worker=worker_id)
        try:
            self.processor.process(job_id, worker_id)
        except LeaseLost:
            log.warning("lost the lease on %s; another worker owns it now", job_id)
        return True
