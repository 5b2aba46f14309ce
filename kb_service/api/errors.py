"""The one place where errors become HTTP responses in the envelope.

Domain errors map by type; framework errors (unknown route, wrong method, malformed
JSON, failed validation) are reshaped into the envelope; anything else is logged
with its request id and answered with a generic 500 that reveals nothing.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from kb_service.api.envelope import error_body
from kb_service.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServiceError,
    Unauthenticated,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

STATUS_OF: dict[type[ServiceError], int] = {
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RateLimited: 429,
}

_HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this path."),
    405: ("method_not_allowed", "This method is not allowed on this path."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "This content type is not supported here."),
    429: ("rate_limited", "Too many requests."),
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, request_id_of(request), errors),
        status_code=status,
        headers=headers,
    )


def _status_and_headers(exc: ServiceError) -> tuple[int, dict[str, str] | None]:
    status = next((s for t, s in STATUS_OF.items() if isinstance(exc, t)), 500)
    if isinstance(exc, RateLimited):
        return status, {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    if isinstance(exc, Unauthenticated):
        return status, {"WWW-Authenticate": "Bearer"}
    return status, None


async def send_error(
    scope: Scope, send: Send, exc: ServiceError, headers: dict[str, str] | None = None
) -> None:
    """Answer a domain error from ASGI middleware, in the envelope (same mapping as routes)."""
    status, own_headers = _status_and_headers(exc)
    request_id = scope.get("state", {}).get("request_id")
    response = JSONResponse(
        error_body(exc.code, exc.message, request_id, exc.errors),
        status_code=status,
        headers={**(own_headers or {}), **(headers or {})},
    )
    await response(scope, _no_body, send)


async def send_internal_error(scope: Scope, send: Send) -> None:
    """The generic 500 for an exception that escaped every handler (logged, never echoed)."""
    request_id = scope.get("state", {}).get("request_id")
    log.exception(
        "unhandled error on %s %s (request %s)", scope.get("method"), scope.get("path"), request_id
    )
    response = JSONResponse(error_body("internal", _INTERNAL, request_id), status_code=500)
    await response(scope, _no_body, send)


_INTERNAL = "Something went wrong on our side. Quote the request id if you contact support."


async def _no_body() -> Any:
    return {"type": "http.disconnect"}


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _field_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, Any]]:
    result = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        # Only the leading segment says where the field lives; a body field may be named "query".
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        result.append(
            {"field": ".".join(loc) or None, "message": err.get("msg"), "type": err.get("type")}
        )
    return result


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        status, headers = _status_and_headers(exc)
        return error_response(request, status, exc.code, exc.message, exc.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return error_response(
                request, 422, "validation_error", "The request body is not valid JSON.", errors
            )
        return error_response(
            request, 422, "validation_error", "Some fields of the request are invalid.", errors
        )

    @app.exception_handler(ValidationError)
    async def _model_error(request: Request, exc: ValidationError) -> JSONResponse:
        # A route validated a body it parsed itself (e.g. JSON ingest next to multipart).
        return error_response(
            request,
            422,
            "validation_error",
            "Some fields of the request are invalid.",
            _field_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("error", "The request failed."))
        if exc.status_code >= 500:
            code, message = "internal", "Something went wrong on our side."
        headers = dict(exc.headers) if exc.headers else None
        return error_response(request, exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.url.path,
            request_id_of(request),
        )
        return error_response(request, 500, "internal", _INTERNAL)
