"""The polling/lease loop every background worker runs on, with a list as its queue."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import pytest

from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.priority import BACKGROUND_NICENESS

LONG_POLL = 60.0  # longer than any test: work found sooner was found by a wake-up


class ListWorker(PollingWorker):
    """Takes items from a list; an item "boom" raises."""

    def __init__(self, *, lanes: int = 1, poll_seconds: float = LONG_POLL) -> None:
        super().__init__(
            lanes=[Lane.new(f"test-lane-{n}") for n in range(lanes)], poll_seconds=poll_seconds
        )
        self.items: list[str] = []
        self.done: list[tuple[str, str]] = []  # (item, lane owner)
        self.priorities: set[int] = set()
        self.passes = 0
        self._lock = threading.Lock()

    def work(self, lane: Lane) -> bool:
        if hasattr(os, "getpriority"):
            self.priorities.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        with self._lock:
            self.passes += 1
            if not self.items:
                return False
            item = self.items.pop(0)
        if item == "boom":
            raise RuntimeError("the unit of work failed")
        with self._lock:
            self.done.append((item, lane.owner))
        return True


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_busy_lane_goes_again_at_once_and_an_idle_one_waits_for_notify() -> None:
    worker = ListWorker()
    worker.items = ["a", "b", "c"]
    worker.start()
    try:
        _wait(lambda: len(worker.done) == 3)  # no poll between them
        _wait(lambda: worker.passes == 4)  # the pass that found the list empty
        time.sleep(0.2)
        assert worker.passes == 4  # idle: waiting for the poll or a wake-up
        worker.items.append("d")
        worker.notify()
        _wait(lambda: len(worker.done) == 4)
        assert [item for item, _ in worker.done] == ["a", "b", "c", "d"]
    finally:
        worker.stop()


def test_a_failing_pass_is_logged_and_the_loop_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = ListWorker(poll_seconds=0.05)
    worker.items = ["boom", "after"]
    with caplog.at_level(logging.ERROR, logger=__name__):
        worker.start()
        try:
            _wait(lambda: [item for item, _ in worker.done] == ["after"])
        finally:
            worker.stop()
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.name == __name__  # the subclass's logger
    assert "test-lane-0" in record.getMessage() and "claimed again" in record.getMessage()


def test_every_lane_has_its_own_owner_and_stop_ends_every_thread() -> None:
    worker = ListWorker(lanes=3)
    owners = [lane.owner for lane in worker.lanes]
    assert len(set(owners)) == 3 and all(o.count(":") == 2 for o in owners)
    assert Lane.new("x", "live").owner.endswith(":live")
    worker.start()
    running = {t.name for t in threading.enumerate()}
    assert {"test-lane-0", "test-lane-1", "test-lane-2"} <= running
    worker.items = [str(n) for n in range(30)]
    worker.notify()
    _wait(lambda: len(worker.done) == 30)
    worker.stop()
    assert not {t.name for t in threading.enumerate()} & {lane.name for lane in worker.lanes}
    assert {owner for _, owner in worker.done} <= set(owners)


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="needs POSIX priorities")
def test_lanes_run_at_background_priority_unless_the_loop_opts_out() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    class Foreground(ListWorker):
        lower_priority = False

    for kind, expected in ((ListWorker, max(before, BACKGROUND_NICENESS)), (Foreground, before)):
        worker = kind()
        worker.start()
        try:
            _wait(lambda w=worker: w.passes >= 1)  # type: ignore[misc]
        finally:
            worker.stop()
        assert worker.priorities == {expected}
