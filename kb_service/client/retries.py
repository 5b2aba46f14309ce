"""When the client sends a request again, and after how long.

A request is *replay-safe* when sending it twice cannot do the work twice: a GET, PUT
or DELETE, a POST carrying an `Idempotency-Key` (the client adds one to every POST,
reused across the retries of one call, so the server replays the first answer), and a
signed meeting callback (deduplicated by `(meetingId, sequence)`).

| outcome of an attempt                            | replay-safe          | not replay-safe (PATCH) |
|--------------------------------------------------|----------------------|-------------------------|
| connect error or connect timeout (nothing sent)  | retry                | retry                   |
| other transport error (dropped, read timeout)    | retry                | raise ConnectionFailed  |
| 429 rate_limited                                 | retry after Retry-After | same                 |
| 409 with Retry-After (its key's first request still running) | retry after Retry-After | answer     |
| 500, 502, 503, 504                               | retry                | answer (ServerError)    |
| anything else                                    | answer               | answer                  |

At most `max_retries` retries follow the first attempt; then the last answer is
returned (and raised as its error) or the last transport error becomes
`ConnectionFailed`. The wait is `min(max_backoff, backoff * 2**retry)` scaled by a
random factor in [0.5, 1] (jitter), or the server's Retry-After when it sends one;
a Retry-After longer than `max_retry_after` is not waited for (the error is raised).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from kb_service.client.errors import retry_after_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff and max_backoff must not be negative")

    def _wait(self, retry: int) -> float:
        return min(self.max_backoff, self.backoff * 2**retry) * random.uniform(0.5, 1.0)

    def after_error(self, retry: int, *, replay_safe: bool, error: Exception) -> float | None:
        """Seconds to wait before retry number `retry` (0-based) after a transport error."""
        if retry >= self.max_retries or not isinstance(error, httpx.TransportError):
            return None
        if replay_safe or isinstance(error, _NOTHING_SENT):
            return self._wait(retry)
        return None

    def after_response(
        self, retry: int, *, replay_safe: bool, keyed: bool, response: httpx.Response
    ) -> float | None:
        """Seconds to wait before retry number `retry` after this answer; None: take it."""
        if retry >= self.max_retries:
            return None
        status = response.status_code
        retry_after = retry_after_of(response)
        if status == 429 or (status == 409 and keyed and retry_after is not None):
            wait = self._wait(retry) if retry_after is None else retry_after
            return wait if wait <= self.max_retry_after else None
        if status in RETRIED_STATUSES and replay_safe:
            wait = self._wait(retry) if retry_after is None else retry_after
            return wait if wait <= self.max_retry_after else None
        return None
