"""Liveness, readiness and Prometheus metrics (outside /api/v1, no auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from kb_service.api.deps import DB, AppSettings, Index
from kb_service.api.envelope import error_body, ok
from kb_service.api.json_body import StrictJsonRoute
from kb_service.observability.store import CONTENT_TYPE
from kb_service.services import health

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


@router.get("/healthz")
def healthz() -> Any:
    """The process is up."""
    return ok({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request, db: DB, index: Index) -> Any:
    """The metadata database and the vector index answer."""
    if not health.is_ready(db, index):
        return JSONResponse(
            error_body(
                "not_ready",
                "A dependency is not reachable.",
                getattr(request.state, "request_id", None),
            ),
            status_code=503,
        )
    return ok({"status": "ready"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(db: DB, settings: AppSettings) -> Any:
    """Prometheus text format: this process's metrics and the queue's and outbox's gauges."""
    if not settings.api.metrics_enabled:
        return JSONResponse(error_body("not_found", "Metrics are disabled.", None), status_code=404)
    return Response(health.metrics_text(db), media_type=CONTENT_TYPE)
