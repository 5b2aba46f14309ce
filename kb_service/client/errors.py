"""Errors the client raises: the API's error envelope as exceptions, plus transport and webhooks.

KbClientError
├── ApiError                 any error envelope (status, code, message, request_id, errors)
│   ├── Unauthorized           401 unauthorized: no key, unknown or revoked key
│   ├── Forbidden              403 forbidden: the key's role or organization does not allow it
│   ├── NotFound               404 not_found: also another organization's object
│   ├── Conflict               409 conflict: the request contradicts the current state
│   ├── ValidationError        422 validation_error (field `errors`)
│   ├── IdempotencyKeyReused   422 idempotency_key_reused: the same key with another body
│   ├── PayloadTooLarge        413 payload_too_large
│   ├── UnsupportedMediaType   415 unsupported_media_type
│   ├── RateLimited            429 rate_limited (`retry_after` seconds, from Retry-After)
│   └── ServerError            5xx: internal, not_ready, or a proxy's answer
├── ConnectionFailed         no answer after the retries (the last httpx error is the cause)
├── JobTimeout               `wait_for_job` gave up before the job finished
└── WebhookVerificationError a delivery's signature, timestamp or headers do not check out

An error answer is matched by its envelope `meta.code` first and by its status when
the code is unknown (a proxy's 502 page has none); anything else is a bare `ApiError`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class KbClientError(Exception):
    """The base of everything `kb_service.client` raises."""


class ApiError(KbClientError):
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code or type(self).code
        self.request_id = request_id
        self.errors = errors or []

    def __str__(self) -> str:
        where = f", request {self.request_id}" if self.request_id else ""
        return f"{self.status_code} {self.code}: {self.message}{where}"


class Unauthorized(ApiError):
    code = "unauthorized"


class Forbidden(ApiError):
    code = "forbidden"


class NotFound(ApiError):
    code = "not_found"


class Conflict(ApiError):
    code = "conflict"


class ValidationError(ApiError):
    code = "validation_error"


class IdempotencyKeyReused(ApiError):
    code = "idempotency_key_reused"


class PayloadTooLarge(ApiError):
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"


class RateLimited(ApiError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ApiError):
    code = "internal"


class ConnectionFailed(KbClientError):
    """The request got no answer (connection refused, dropped, timed out) after every retry."""


class JobTimeout(KbClientError):
    def __init__(self, message: str, *, job: Any) -> None:
        super().__init__(message)
        self.job = job


class WebhookVerificationError(KbClientError):
    """A webhook delivery that must not be trusted: bad signature, stale timestamp, no headers."""


_BY_CODE: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in (
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ValidationError,
        IdempotencyKeyReused,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
    )
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationError,
    429: RateLimited,
}


def retry_after_of(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds (the API sends whole seconds), or None."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP-date: the API never sends one, a proxy might


def error_of(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer (status >= 400 or `success: false`)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    meta = (body.get("meta") if isinstance(body, dict) else None) or {}
    code = meta.get("code") if isinstance(meta, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    status = response.status_code
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code or (cls.code if cls is not ApiError else f"http_{status}"),
        "request_id": meta.get("request_id") if isinstance(meta, dict) else None,
        "errors": meta.get("errors") if isinstance(meta, dict) else None,
    }
    text = message or f"The server answered {status} {response.reason_phrase}."
    if cls is RateLimited:
        return RateLimited(text, retry_after=retry_after_of(response), **kwargs)
    return cls(text, **kwargs)
