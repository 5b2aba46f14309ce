"""When a failed delivery is tried again.

Exponential backoff with jitter: after attempt n the next one waits
`min(FIRST_RETRY * 2**(n-1), MAX_DELAY)` scaled by a random factor in [0.5, 1.0]
("equal jitter": spreads a burst of failures out, and never waits longer than the
nominal delay). The first retry therefore comes 15-30 s after the first failure, then
roughly 1, 2, 4, ... minutes, capped at 4 h. Retries continue for `RETRY_WINDOW` (24 h)
after the delivery was created; the last attempt is pulled in to the window's end, and
when that fails too the delivery is dead-lettered (listed, and retryable by hand).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=4)
RETRY_WINDOW = timedelta(hours=24)


def retry_delay(attempt: int, rng: random.Random) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based)."""
    nominal = min(FIRST_RETRY * 2 ** min(attempt - 1, 30), MAX_DELAY)
    return nominal * rng.uniform(0.5, 1.0)


def next_attempt(
    *, attempt: int, now: datetime, retry_until: datetime, rng: random.Random
) -> datetime | None:
    """When to try again after failed attempt `attempt`, or None: dead-letter now."""
    if now >= retry_until:
        return None
    return min(now + retry_delay(attempt, rng), retry_until)
