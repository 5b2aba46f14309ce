"""Domain errors of the service layer. They carry no HTTP status: `api.errors` maps them.

ServiceError
├── Unauthenticated        no key, unknown key, revoked key
├── PermissionDenied       the key's role or organization does not allow it
├── NotFound               no such object in the caller's organization
├── Conflict               the request contradicts the current state
├── InvalidInput           a value is out of range or inconsistent (with field errors)
├── PayloadTooLarge        the upload exceeds KB_MAX_UPLOAD_MB
├── UnsupportedMediaType   the request body has a content type we do not accept
└── RateLimited            the key exceeded its request budget (retry_after seconds)
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "internal"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthenticated(ServiceError):
    code = "unauthorized"


class PermissionDenied(ServiceError):
    code = "forbidden"


class NotFound(ServiceError):
    code = "not_found"

    @classmethod
    def of(cls, kind: str, object_id: str) -> NotFound:
        return cls(f"No {kind} with id {object_id!r} exists in your organization.")


class Conflict(ServiceError):
    code = "conflict"


class InvalidInput(ServiceError):
    code = "validation_error"


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    code = "unsupported_media_type"


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
