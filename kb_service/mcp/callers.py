"""Who calls a tool: the key's principal and rate-limit bucket, the runtime, where links point.

A `CallerOf` turns the SDK's per-message request object into a `Caller`. Over HTTP the
request is the Starlette request of the POST that carried the message, on which
`http.McpEndpoint` left the caller it authenticated (`caller_from_request`); over stdio
there is no request, and `KeyCaller` authenticates one fixed key on every call, so a
revoked key stops working on the next call, as over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb_service.api.ratelimit import RateLimiter
from kb_service.errors import Unauthenticated
from kb_service.runtime import Runtime
from kb_service.services.keys import Principal, authenticate

# The ASGI scope key under which `http.McpEndpoint` leaves the authenticated caller.
SCOPE_KEY = "kb_service.mcp.caller"


@dataclass(frozen=True)
class Caller:
    principal: Principal
    runtime: Runtime
    base_url: str  # links point here: KB_PUBLIC_URL, else the URL the request came in on
    limiter: RateLimiter | None  # the buckets the key's calls spend (None: unlimited)


CallerOf = Callable[[Any], Caller]


def caller_from_request(request: Any) -> Caller:
    """The caller `http.McpEndpoint` authenticated for this HTTP request."""
    scope = getattr(request, "scope", None) or {}
    caller = scope.get(SCOPE_KEY)
    if not isinstance(caller, Caller):
        raise Unauthenticated("Send an API key in X-API-Key or as Authorization: Bearer sk_...")
    return caller


class KeyCaller:
    """The caller of one API key (stdio): looked up again on every call."""

    def __init__(
        self, runtime: Runtime, secret: str, *, base_url: str, limiter: RateLimiter | None
    ) -> None:
        self.runtime = runtime
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter

    def __call__(self, request: Any) -> Caller:
        principal = authenticate(self.runtime.db, secret=self._secret)
        return Caller(principal, self.runtime, self.base_url, self.limiter)
