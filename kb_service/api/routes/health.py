"""Liveness, readiness and Prometheus metrics (outside /api/v1, no auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select

from kb_service.api.envelope import error_body, ok
from kb_service.db.jobs import IngestJob
from retrieval.index import PointFilter

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Any:
    """The process is up."""
    return ok({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> Any:
    """The metadata database and the vector index answer."""
    runtime = request.app.state.runtime
    try:
        runtime.db.ping()
        runtime.index.count(PointFilter.where(organization_id="__readyz__"))
    except Exception:
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
def metrics(request: Request) -> Any:
    """Prometheus text format: job counts by status."""
    runtime = request.app.state.runtime
    if not runtime.settings.metrics_enabled:
        return JSONResponse(error_body("not_found", "Metrics are disabled.", None), status_code=404)
    with runtime.db.session() as session:
        rows = session.execute(
            select(IngestJob.status, func.count()).group_by(IngestJob.status)
        ).all()
    lines = [
        "# HELP kb_ingest_jobs Ingest jobs by status.",
        "# TYPE kb_ingest_jobs gauge",
        *(f'kb_ingest_jobs{{status="{status}"}} {count}' for status, count in rows),
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
