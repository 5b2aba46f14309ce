"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import Route

from kb_service import __version__
from kb_service.api.deps import get_principal
from kb_service.api.errors import install_error_handlers
from kb_service.api.idempotency import IdempotencyMiddleware
from kb_service.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from kb_service.api.openapi import install_openapi
from kb_service.api.ratelimit import RateLimiter
from kb_service.api.request_log import RequestLogMiddleware
from kb_service.api.routes import (
    documents,
    health,
    identity,
    ingest,
    knowledge_bases,
    meeting_callbacks,
    meetings,
    members,
    projects,
    query,
    sources,
    tasks,
)
from kb_service.api.routes import webhooks as webhook_routes
from kb_service.api.schemas.ingest import TextIngestIn  # referenced by the ingest route
from kb_service.console import install_console
from kb_service.mcp.http import McpEndpoint
from kb_service.runtime import Runtime
from kb_service.settings import Settings, load_settings

API_PREFIX = "/api/v1"


def create_app(
    *, settings: Settings | None = None, runtime: Runtime | None = None, start_workers: bool = True
) -> FastAPI:
    """The app. Given a `runtime`, the caller owns it; otherwise it is built at start-up."""
    settings = runtime.settings if runtime else (settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        if owned and start_workers and rt.workers is None:
            rt.start_workers()
        # webhook delivery runs in-process under `serve`
        if owned and start_workers and rt.settings.webhooks.dispatcher_enabled:
            rt.start_webhook_dispatcher()
        # meeting indexing (live segments, ended meetings) runs under `serve` too
        if owned and start_workers and rt.settings.meetings.indexer_enabled:
            rt.start_meeting_indexer()
        # web sources: the schedule and the sync workers run under `serve` too
        if owned and start_workers and rt.settings.sources.sync_enabled:
            rt.start_source_sync()
        # tasks: their schedule and run workers run under `serve` too
        if owned and start_workers and rt.settings.tasks.enabled:
            rt.start_tasks()
        try:
            async with mcp.running():
                yield
        finally:
            if owned:
                rt.close()

    app = FastAPI(
        title="kb-service",
        version=__version__,
        description="Self-hostable knowledge base: ingest anything, answer with citations.",
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    install_error_handlers(app)
    # per-key rate limits; idempotency sits inside the body cap and request ids
    app.state.rate_limiter = RateLimiter(
        per_second=settings.api.rate_limit_per_second,
        burst=settings.api.rate_limit_burst,
        enabled=settings.api.rate_limit_enabled,
    )
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.ingest.max_upload_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RequestLogMiddleware)  # outermost: sees every final status

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(get_principal)])
    api.include_router(knowledge_bases.router)
    api.include_router(documents.router)
    api.include_router(ingest.router)  # /knowledge-bases/{id}/ingest, /ingest-jobs/{id}
    api.include_router(identity.router)
    api.include_router(webhook_routes.router)
    api.include_router(query.router)  # /knowledge-bases/{id}/query, /search
    api.include_router(projects.router)
    api.include_router(meetings.router)
    api.include_router(sources.router)  # /knowledge-bases/{id}/sources, /sources/{id}
    api.include_router(members.router)  # /workspaces/{id}/invite, .../members
    api.include_router(tasks.router)  # /tasks, /tasks/{id}/run, /task-runs/{id}
    app.include_router(api)
    # live meeting callbacks authenticate by signature, not by API key
    app.include_router(meeting_callbacks.router, prefix=API_PREFIX)
    # accepting an invitation authenticates by its token
    app.include_router(members.accept_router, prefix=API_PREFIX)
    app.include_router(health.router)
    # the web console: static files and an HTML shell, a client of /api/v1 like any other
    install_console(app)
    # MCP over Streamable HTTP, authenticated and rate-limited like the REST API
    mcp = McpEndpoint(
        runtime=lambda: app.state.runtime,
        limiter=lambda: app.state.rate_limiter,
        public_url=settings.api.public_url,
    )
    app.router.routes.append(Route("/mcp", endpoint=mcp, methods=["GET", "POST", "DELETE"]))
    install_openapi(app, extra_models=[TextIngestIn])
    return app
