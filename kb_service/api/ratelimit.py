"""Per-API-key rate limiting: a token bucket per key, in this process's memory.

Each key's bucket holds up to KB_RATE_LIMIT_BURST tokens and refills at
KB_RATE_LIMIT_PER_SECOND; a request takes one token, and a request that finds the
bucket empty is refused with 429 `rate_limited` and `Retry-After` (seconds until a
token is back). KB_RATE_LIMIT_ENABLED=false turns it off.

With N API replicas each replica keeps its own buckets, so a key may make up to N
times the configured rate in total (the load balancer spreads its requests). Set the
per-replica rate to the global budget divided by N, or put a shared limiter (the
gateway, or a Redis/PostgreSQL-backed bucket) in front when the limit must be exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kb_service.errors import RateLimited
from kb_service.observability.metrics import RATE_LIMITED


class RateLimiter:
    def __init__(
        self,
        *,
        per_second: float,
        burst: int,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self.enabled = enabled
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def take(self, key: str) -> None:
        """Spend one of `key`'s tokens or raise `RateLimited`."""
        if not self.enabled:
            return
        now = self.clock()
        with self._lock:
            tokens, updated = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated) * self.per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.per_second
                RATE_LIMITED.inc()
                raise RateLimited(
                    f"Too many requests for this API key; retry in {wait:.1f} s.", retry_after=wait
                )
            self._buckets[key] = (tokens - 1.0, now)
            if now >= self._next_sweep:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        # A bucket that has had time to refill completely is the same as no bucket.
        full_after = self.burst / self.per_second
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._next_sweep = now + max(60.0, full_after)
