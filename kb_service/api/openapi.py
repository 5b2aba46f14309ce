"""The OpenAPI document: FastAPI's, plus what happens around the routes.

FastAPI sees route signatures only, so this module adds, after it has built the document:

- request bodies that routes parse by hand: the ingest route reads multipart or JSON
  itself (it must see the raw body), so its JSON schema is referenced from
  `openapi_extra` and FastAPI does not emit it; without this the `$ref` would dangle;
- error responses in the envelope, each with an example: every operation may answer
  500; operations under /api/v1 add the API errors (the signed meeting callbacks, which
  no API key reaches, cannot answer 403 or 429); routes that choose their parser by
  content type (multipart or JSON) add 415. FastAPI's own 422 (`HTTPValidationError`)
  is replaced: the error handlers answer it in the envelope too;
- headers: `X-Request-Id` on every response (the middleware adds it), `Retry-After` on
  429, and the `Idempotency-Key` parameter on every POST that an API key authenticates
  (the idempotency middleware ignores it on the signed callbacks, which dedupe by
  `(meetingId, sequence)`), with `Idempotent-Replayed` on its success responses;
- success examples for the operations clients call most (`api.openapi_examples`), and
  links (`api.openapi_links`).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kb_service.api.envelope import ErrorEnvelope
from kb_service.api.openapi_examples import SUCCESS_EXAMPLES
from kb_service.api.openapi_links import add_links

API_PREFIX = "/api/v1"
METHODS = ("get", "put", "post", "patch", "delete")
REQUEST_ID = "req_4f1c9a2b7d3e8f6a5b0c1d2e"

# status: (description, code, example message); the messages are the service's own
ERRORS: dict[int, tuple[str, str, str]] = {
    401: (
        "Missing, unknown or revoked API key (on meeting callbacks: a bad signature)",
        "unauthorized",
        "The API key is not valid (unknown or revoked).",
    ),
    403: (
        "The key's role or organization does not allow this",
        "forbidden",
        "This needs the writer role; your key has the reader role.",
    ),
    404: (
        "No such object in your organization",
        "not_found",
        "No knowledge base with id 'kb_0a1b2c3d4e5f6g7h8i9j0k1l' exists in your organization.",
    ),
    409: (
        "Conflicts with the current state (or an in-flight Idempotency-Key)",
        "conflict",
        "The delivery is being attempted right now.",
    ),
    413: (
        "The request body is too large",
        "payload_too_large",
        "The request body exceeds the upload limit of 100 MB (KB_MAX_UPLOAD_MB).",
    ),
    415: (
        "The body's content type is not accepted here",
        "unsupported_media_type",
        "Send files as multipart/form-data (field 'files') or text as application/json.",
    ),
    422: (
        "Invalid input, or an Idempotency-Key reused with another body",
        "validation_error",
        "Some fields of the request are invalid.",
    ),
    429: (
        "Rate limited: retry after `Retry-After` seconds",
        "rate_limited",
        "Too many requests for this API key; retry in 0.4 s.",
    ),
    500: (
        "Internal error (no details are exposed)",
        "internal",
        "Something went wrong on our side. Quote the request id if you contact support.",
    ),
    503: ("A dependency is not reachable", "not_ready", "A dependency is not reachable."),
}
API_ERRORS = (401, 403, 404, 409, 413, 422, 429, 500)
SIGNED_ERRORS = (401, 404, 409, 413, 422, 500)  # meeting callbacks: no API key involved
# accepting an invitation: its token is the credential (unknown: 404; used or expired: 409)
TOKEN_ERRORS = (404, 409, 422, 500)
TOKEN_ROUTES = {f"{API_PREFIX}/invitations/{{token}}/accept"}
# outside /api/v1 these routes answer only their own errors (and 500)
OWN_ERRORS: dict[str, tuple[int, ...]] = {"/readyz": (503,), "/metrics": (404,)}

_VALIDATION_ERRORS = [{"field": "name", "message": "Field required", "type": "missing"}]
_REUSED = (
    "This Idempotency-Key was already used with a different request; "
    "use a new key for a new request."
)
_REUSED_ERRORS = [{"field": "Idempotency-Key", "message": "key reused", "type": "value_error"}]

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id: the caller's `X-Request-Id` when it is 1-100 of "
        "`A-Za-z0-9._:-`, else a new `req_...`. Quote it when reporting a problem.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request "
        "with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

# Inline rather than a `$ref`, so that readers of `parameters` need no resolver.
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Makes a retry safe. Within 24 h the same key (per organization) with "
    "the same method, path and body replays the first response byte for byte, with "
    "`Idempotent-Replayed: true`; with another method, path or body it is 422 "
    "`idempotency_key_reused`. A duplicate sent while the first request runs waits for "
    "it and replays it (409 with `Retry-After` if it takes too long), so concurrent "
    "duplicates create one object. 401, 403, 429 and 5xx answers are not stored: the "
    "next request with the key runs.",
}


def error_body(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> Any:
    meta: dict[str, Any] = {"code": code, "request_id": REQUEST_ID}
    if errors is not None:
        meta["errors"] = errors
    return {"success": False, "data": None, "message": message, "meta": meta}


def install_openapi(app: FastAPI, extra_models: list[type[BaseModel]]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            models: list[type[BaseModel]] = [*extra_models, ErrorEnvelope]
            _, defs = models_json_schema(
                [(m, "validation") for m in models],
                ref_template="#/components/schemas/{model}",
            )
            components = schema.setdefault("components", {})
            for name, definition in defs.get("$defs", {}).items():
                components.setdefault("schemas", {}).setdefault(name, definition)
            components["headers"] = HEADERS
            describe_operations(schema["paths"])
            add_links(schema["paths"])
            # only FastAPI's own 422 responses used these, and they are all replaced
            for name in ("HTTPValidationError", "ValidationError"):
                components["schemas"].pop(name, None)
            app.openapi_schema = copy.deepcopy(schema)  # unshare the module's constants
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_operations(paths: dict[str, Any]) -> None:
    """Add the error responses, headers, Idempotency-Key and examples to every operation."""
    for path, item in paths.items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            responses = op["responses"]
            if not path.startswith(API_PREFIX + "/"):
                statuses: tuple[int, ...] = OWN_ERRORS.get(path, ())
            else:
                statuses = (
                    API_ERRORS
                    if op.get("security")
                    else TOKEN_ERRORS
                    if path in TOKEN_ROUTES
                    else SIGNED_ERRORS
                )
            content = op.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in content:
                statuses += (415,)
            if "422" in responses:  # FastAPI's, for routes with parameters
                statuses += (422,)
            idempotent = method == "post" and bool(op.get("security"))
            if idempotent:
                op.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            for status in sorted({*statuses, 500}):
                responses[str(status)] = error_response(status, idempotent=idempotent)
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers["X-Request-Id"] = {"$ref": "#/components/headers/X-Request-Id"}
                if idempotent and status.startswith("2"):
                    headers["Idempotent-Replayed"] = {
                        "$ref": "#/components/headers/Idempotent-Replayed"
                    }
            example = SUCCESS_EXAMPLES.get((method, path))
            if example is not None:
                success = next(r for s, r in responses.items() if s.startswith("2"))
                success["content"]["application/json"]["examples"] = {
                    "success": {"summary": "Success", "value": example}
                }


def error_response(status: int, *, idempotent: bool) -> dict[str, Any]:
    """One error status in the envelope, with an example of each code it may carry."""
    description, code, message = ERRORS[status]
    errors = _VALIDATION_ERRORS if status == 422 else None
    examples = {code: {"summary": description, "value": error_body(code, message, errors)}}
    headers: dict[str, Any] = {}
    if status == 429 or (status == 409 and idempotent):
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    if status == 422 and idempotent:
        examples["idempotency_key_reused"] = {
            "summary": "The Idempotency-Key was first used with another request",
            "value": error_body("idempotency_key_reused", _REUSED, _REUSED_ERRORS),
        }
    return {
        "description": description,
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "examples": examples,
            }
        },
    }
