"""ASGI middleware: one log line and one histogram observation per HTTP request.

Outermost of the middleware, so it sees every answer (a 413 of the body cap, a 500 of
`RequestIdMiddleware`, a 429) with its final status. The route label is the matched
route's template (`/api/v1/knowledge-bases/{kb_id}/query`), never the raw path, so an
id or a scanner's random URLs cannot grow the label set; a request no route matched is
`unmatched`. The organization is the authenticated key's, when there was one.

The line (logger `kb_service.request`, event `request`) carries `request_id`,
`organization_id`, `method`, `route`, `status` and `duration_ms`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb_service.observability.logs import log_event
from kb_service.observability.metrics import HTTP_IN_FLIGHT, HTTP_REQUEST_DURATION

REQUEST_LOGGER = "kb_service.request"
log = logging.getLogger(REQUEST_LOGGER)

UNMATCHED = "unmatched"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            HTTP_IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUEST_DURATION.labels(route, method, str(status)).observe(seconds)
            state: dict[str, Any] = scope.get("state") or {}
            principal = state.get("principal")
            log_event(
                log,
                "request",
                request_id=state.get("request_id"),
                organization_id=getattr(principal, "organization_id", None),
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )


def route_template(scope: Scope) -> str:
    """The matched route's full path template, or `unmatched`.

    A route of an included router knows only its own part of the template
    (`/knowledge-bases/{kb_id}/query`); the prefixes above it are the leading
    segments of the raw path that the template does not cover (`/api/v1`).
    """
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    path: str = scope["path"]
    if path == template:
        return template
    segments = path.split("/")
    return "/".join(segments[: len(segments) - template.count("/")]) + template
