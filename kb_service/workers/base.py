"""The one skeleton of every background loop: claim a unit of work, do it, repeat.

A `PollingWorker` runs one thread per `Lane`; a lane has its own lease identity
(`owner`) and, for loops with several kinds of work, the `kind` it does. A lane goes
again at once while its last pass found work; idle, it sleeps until `notify()` (this
process committed work for it: see `Runtime.wake`) or for at most `poll_seconds`
(work from other processes, retries coming due, expired leases of dead workers).

A pass that raises is logged and the loop carries on: everything a pass holds is
under a lease in the database, so what it was doing expires and is claimed again.
Threads run at background priority (`priority.py`) unless the loop says otherwise.

Subclasses say only how to claim and do one unit of work (`work`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from kb_service.workers.priority import lower_current_thread_priority


def worker_identity() -> str:
    """A lease owner unique across machines, processes and threads: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lane:
    """One thread of a loop: its name, the owner its leases are taken under, its work."""

    name: str
    owner: str
    kind: str = ""

    @classmethod
    def new(cls, name: str, kind: str = "") -> Lane:
        owner = worker_identity()
        return cls(name, f"{owner}:{kind}" if kind else owner, kind)


class PollingWorker(ABC):
    """Threads that claim and do units of work until `stop()` (see the module docstring)."""

    lower_priority: ClassVar[bool] = True
    # What happens to the work of a failed pass, for the log line.
    after_failure: ClassVar[str] = "its lease will expire and the work be claimed again"

    def __init__(self, *, lanes: Sequence[Lane], poll_seconds: float) -> None:
        self.lanes = list(lanes)
        self.poll_seconds = poll_seconds
        self._log = logging.getLogger(type(self).__module__)
        self._stop = threading.Event()
        self._wakes = {lane.name: threading.Event() for lane in self.lanes}
        self._threads: list[threading.Thread] = []

    @abstractmethod
    def work(self, lane: Lane) -> bool:
        """Claim and do one unit of work as `lane.owner`; True to go again without waiting."""

    def start(self) -> None:
        for lane in self.lanes:
            thread = threading.Thread(target=self._run, args=(lane,), name=lane.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def notify(self) -> None:
        """There is work now: idle lanes look at once instead of at their next poll."""
        for wake in self._wakes.values():
            wake.set()

    @property
    def stopping(self) -> bool:
        """True once `signal_stop()` was called: long passes may hand their work back."""
        return self._stop.is_set()

    def signal_stop(self) -> None:
        """Ask every lane to stop after its pass, without waiting for it."""
        self._stop.set()
        self.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Let every lane finish its pass and end the threads, waiting `timeout` in all."""
        self.signal_stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def _run(self, lane: Lane) -> None:
        if self.lower_priority:
            lower_current_thread_priority()
        wake = self._wakes[lane.name]
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.work(lane)
            except Exception:
                self._log.exception("%s (%s) failed; %s", lane.name, lane.owner, self.after_failure)
            if not busy:
                wake.wait(self.poll_seconds)
            # Cleared only here: a wake-up during a pass cuts the wait short, so the next
            # pass sees the commit that caused it.
            wake.clear()
