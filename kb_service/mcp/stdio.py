"""The MCP server over stdio, as one API key: what `kb-service mcp` runs for desktop agents.

The key is looked up again on every tool call (a revoked key is refused on the next
call) and spends the per-key rate limit of `KB_RATE_LIMIT_*`, in this process. Links
point at `KB_PUBLIC_URL`, else at the API's `KB_HOST`/`KB_PORT`.
"""

from __future__ import annotations

from kb_service.api.ratelimit import RateLimiter
from kb_service.mcp.callers import KeyCaller
from kb_service.mcp.server import build_server
from kb_service.runtime import Runtime


def link_base(runtime: Runtime) -> str:
    """Where the links of stdio results point: the public URL, else where `serve` listens."""
    api = runtime.settings.api
    return (api.public_url or f"http://{api.host}:{api.port}").rstrip("/")


def serve_stdio(runtime: Runtime, *, secret: str) -> None:
    """Serve the tools on stdin/stdout until the client closes them."""
    api = runtime.settings.api
    limiter = RateLimiter(
        per_second=api.rate_limit_per_second,
        burst=api.rate_limit_burst,
        enabled=api.rate_limit_enabled,
    )
    server = build_server(KeyCaller(runtime, secret, base_url=link_base(runtime), limiter=limiter))
    server.run("stdio")
