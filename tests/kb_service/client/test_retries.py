"""The retry decision table of `kb_service.client.retries`, row by row, and the error mapping."""

from __future__ import annotations

import httpx
import pytest

from kb_service.client import errors
from kb_service.client.retries import RetryPolicy

POLICY = RetryPolicy(max_retries=2, backoff=0.1, max_backoff=1.0, max_retry_after=5.0)


def answer(status: int, retry_after: str | None = None, body: dict | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers, json=body)


@pytest.mark.parametrize(
    ("error", "safe", "retried"),
    [
        (httpx.ConnectError("refused"), False, True),  # nothing was sent
        (httpx.ConnectTimeout("slow"), False, True),
        (httpx.RemoteProtocolError("dropped"), True, True),
        (httpx.RemoteProtocolError("dropped"), False, False),  # a PATCH may have run
        (httpx.ReadTimeout("slow"), False, False),
    ],
)
def test_transport_errors(error: Exception, safe: bool, retried: bool) -> None:
    wait = POLICY.after_error(0, replay_safe=safe, error=error)
    assert (wait is not None) == retried
    if wait is not None:
        assert 0.05 <= wait <= 0.1  # backoff * 2**0, jitter in [0.5, 1]
    assert POLICY.after_error(2, replay_safe=True, error=error) is None  # retries spent


@pytest.mark.parametrize(
    ("status", "retry_after", "safe", "keyed", "wait"),
    [
        (429, "2", False, False, 2.0),  # refused before anything ran
        (429, "30", True, True, None),  # longer than max_retry_after: raise instead
        (409, "1", True, True, 1.0),  # the key's first request still running
        (409, None, True, True, None),  # a real conflict
        (409, "1", False, False, None),
        (503, "3", True, True, 3.0),
        (500, None, False, False, None),  # a PATCH may have run
        (404, None, True, True, None),
        (200, None, True, True, None),
    ],
)
def test_answers(
    status: int, retry_after: str | None, safe: bool, keyed: bool, wait: float | None
) -> None:
    got = POLICY.after_response(
        0, replay_safe=safe, keyed=keyed, response=answer(status, retry_after)
    )
    assert got == wait


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.5, max_backoff=2.0)
    waits = [
        policy.after_response(n, replay_safe=True, keyed=True, response=answer(502))
        for n in range(6)
    ]
    assert all(w is not None for w in waits)
    assert 0.25 <= waits[0] <= 0.5 and all(1.0 <= w <= 2.0 for w in waits[2:])  # type: ignore[operator]


def test_error_envelopes_become_typed_errors() -> None:
    def envelope(code: str) -> dict:
        return {
            "success": False,
            "data": None,
            "message": "m",
            "meta": {"code": code, "request_id": "r1"},
        }

    reused = errors.error_of(answer(422, body=envelope("idempotency_key_reused")))
    assert type(reused) is errors.IdempotencyKeyReused and reused.request_id == "r1"
    limited = errors.error_of(answer(429, "4", envelope("rate_limited")))
    assert isinstance(limited, errors.RateLimited) and limited.retry_after == 4.0
    assert type(errors.error_of(answer(502))) is errors.ServerError  # a proxy's page, no envelope
    assert (
        type(errors.error_of(answer(405, body=envelope("method_not_allowed")))) is errors.ApiError
    )
    invalid = {
        **envelope("validation_error"),
        "meta": {"code": "validation_error", "errors": [{"field": "name"}]},
    }
    assert errors.error_of(answer(422, body=invalid)).errors == [{"field": "name"}]
