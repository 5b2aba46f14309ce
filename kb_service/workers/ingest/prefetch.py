"""A bounded hand-off between the thread that parses documents and the one that embeds.

The model is the bottleneck of ingestion, so it must never wait for parsing: the
producer keeps preparing documents while the consumer embeds, up to a budget of
prepared chunks (memory stays bounded however large the job). A single item heavier
than the whole budget is still let through when the buffer is empty.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class PrefetchBuffer(Generic[T]):
    """FIFO of weighted items: `put` blocks over budget, `get` returns None when finished."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._items: deque[tuple[T, int]] = deque()
        self._weight = 0
        self._finished = False
        self._closed = False
        self._changed = threading.Condition()

    @property
    def closed(self) -> bool:
        """The consumer went away: the producer should stop."""
        return self._closed

    def put(self, item: T, weight: int) -> bool:
        """Queue `item` once it fits in the budget; False if the consumer went away."""
        with self._changed:
            while self._items and self._weight + weight > self._budget and not self._closed:
                self._changed.wait()
            if self._closed:
                return False
            self._items.append((item, weight))
            self._weight += weight
            self._changed.notify_all()
            return True

    def finish(self) -> None:
        """The producer is done (or failed): `get` drains what is queued, then returns None."""
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def get(self) -> T | None:
        with self._changed:
            while not self._items and not self._finished:
                self._changed.wait()
            if not self._items:
                return None
            item, weight = self._items.popleft()
            self._weight -= weight
            self._changed.notify_all()
            return item

    def close(self) -> None:
        """The consumer stops early: wake and stop the producer, drop what is queued."""
        with self._changed:
            self._closed = True
            self._items.clear()
            self._weight = 0
            self._changed.notify_all()
