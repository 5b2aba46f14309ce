"""Worker threads: claim a job, process it, repeat; idle workers poll."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from kb_service.workers.ingest.processor import JobProcessor
from kb_service.workers.ingest.queue import JobQueue, LeaseLost
from kb_service.workers.priority import lower_current_thread_priority

log = logging.getLogger(__name__)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkerPool:
    """`count` threads draining the job queue until `stop()`."""

    def __init__(
        self, *, queue: JobQueue, processor: JobProcessor, count: int, poll_seconds: float
    ) -> None:
        self.queue = queue
        self.processor = processor
        self.count = count
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._run, name=f"kb-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def notify(self) -> None:
        """A job was queued: wake idle workers now instead of at their next poll."""
        self._wake.set()

    def run_once(self, worker_id: str) -> bool:
        """Claim and process one job; False when the queue was empty."""
        job_id = self.queue.claim(worker_id)
        if job_id is None:
            return False
        try:
            self.processor.process(job_id, worker_id)
        except LeaseLost:
            log.warning("lost the lease on %s; another worker owns it now", job_id)
        return True

    def _run(self) -> None:
        worker_id = worker_identity()
        lower_current_thread_priority()
        while not self._stop.is_set():
            try:
                if self.run_once(worker_id):
                    continue
            except Exception:
                log.exception(
                    "worker %s failed; the job's lease will expire and be retried", worker_id
                )
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
