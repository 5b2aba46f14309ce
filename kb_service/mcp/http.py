"""`/mcp`: the MCP server over Streamable HTTP, behind the REST API's key authentication.

`McpEndpoint` is an ASGI app the app factory routes `/mcp` to. Every request is
authenticated like a REST request before the SDK sees it: the key from `X-API-Key` or
`Authorization: Bearer sk_...`, looked up on every request (revocation is immediate),
and `X-Organization-Id`, when sent, must be the key's organization. A refusal is the
REST status (401 or 403) with a JSON-RPC error body, which the SDK's client raises as
an `MCPError` carrying the sentence (`data.code` is the envelope's code).

The transport is stateless with JSON responses: no session lives between requests, so
any API replica can answer any request, and each request is authenticated on its own.
The SDK's DNS-rebinding (Host header) check is off: it protects unauthenticated local
servers from browsers, and this endpoint serves any host name and answers nothing
without a key. The SDK's session manager runs inside `running()`, entered by the app's
lifespan (a fresh server each time the app starts).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from anyio import to_thread
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from kb_service.api.deps import check_organization
from kb_service.api.errors import STATUS_OF
from kb_service.api.ratelimit import RateLimiter
from kb_service.errors import ServiceError, Unauthenticated
from kb_service.mcp.callers import SCOPE_KEY, Caller, caller_from_request
from kb_service.mcp.server import build_server
from kb_service.runtime import Runtime
from kb_service.services.keys import authenticate

# JSON-RPC "server error" range (-32000..-32099): the request was refused before the SDK.
REFUSED = -32001
_ANY_HOST = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class McpEndpoint:
    """The `/mcp` ASGI app: authenticate the key, then hand the request to the SDK.

    `runtime` and `limiter` are read per request from the host app (its runtime is
    built at start-up; its limiter is the REST API's).
    """

    def __init__(
        self,
        *,
        runtime: Callable[[], Runtime],
        limiter: Callable[[], RateLimiter | None],
        public_url: str | None,
    ) -> None:
        self._runtime = runtime
        self._limiter = limiter
        self._public_url = public_url.rstrip("/") if public_url else None
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP requests while this is entered (the host app's lifespan)."""
        server = build_server(caller_from_request)
        server.streamable_http_app(
            streamable_http_path="/",
            stateless_http=True,
            json_response=True,
            transport_security=_ANY_HOST,
        )
        manager = server.session_manager
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if manager is None:
            raise RuntimeError("McpEndpoint.running() has not been entered")
        headers = Headers(scope=scope)
        runtime = self._runtime()
        try:
            principal = await to_thread.run_sync(
                partial(authenticate, runtime.db, secret=_api_key(headers))
            )
            check_organization(principal, headers.get("x-organization-id"))
        except ServiceError as exc:
            await _refuse(exc, scope, send)
            return
        base = self._public_url or str(Request(scope).base_url).rstrip("/")
        scope[SCOPE_KEY] = Caller(principal, runtime, base, self._limiter())
        await manager.handle_request(scope, receive, send)


def _api_key(headers: Headers) -> str | None:
    if key := headers.get("x-api-key"):
        return key
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


async def _refuse(exc: ServiceError, scope: Scope, send: Send) -> None:
    status = next((s for t, s in STATUS_OF.items() if isinstance(exc, t)), 500)
    request_id = scope.get("state", {}).get("request_id")
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": REFUSED,
                "message": exc.message,
                "data": {"code": exc.code, "request_id": request_id},
            },
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if isinstance(exc, Unauthenticated):
        headers.append((b"www-authenticate", b'Bearer realm="kb-service"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
