"""Tasks: saved grounded questions, answered with citations on demand or on a schedule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import (
    DB,
    DEFAULT_LIMIT,
    AppSettings,
    Cursor,
    Engine,
    Limit,
    Reader,
    Writer,
)
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.tasks import TaskIn, TaskOut, TaskPatch, TaskRunOut
from kb_service.services import task_runs as runs
from kb_service.services import tasks as service
from kb_service.services.query_engine import QueryEngine
from kb_service.settings import Settings

router = APIRouter(tags=["tasks"], route_class=StrictJsonRoute)


def _limits(settings: Settings, engine: QueryEngine) -> service.TaskLimits:
    return service.TaskLimits(
        min_interval_minutes=settings.tasks.min_interval_minutes,
        max_enabled_per_org=settings.tasks.max_enabled_per_org,
        generative_available=engine.generative is not None,
    )


@router.post("/tasks", status_code=201, response_model=Envelope[TaskOut])
def create_task(
    body: TaskIn, principal: Writer, db: DB, settings: AppSettings, engine: Engine
) -> Any:
    """Save a task; with a schedule and enabled, it runs at each slot (the first after now)."""
    task = service.create_task(
        db,
        organization_id=principal.organization_id,
        spec=body.to_domain(),
        limits=_limits(settings, engine),
        key_scope=principal.scope,
    )
    return ok(TaskOut.of(task).model_dump(mode="json"))


@router.get("/tasks", response_model=ListEnvelope[TaskOut])
def list_tasks(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """The organization's tasks (for a scoped key, those inside its scope), oldest first."""
    found = service.list_tasks(
        db,
        organization_id=principal.organization_id,
        scope=principal.scope,
        limit=limit,
        cursor=cursor,
    )
    return page([TaskOut.of(t).model_dump(mode="json") for t in found.items], found.next_cursor)


@router.get("/tasks/{task_id}", response_model=Envelope[TaskOut])
def get_task(task_id: str, principal: Reader, db: DB) -> Any:
    """A task with its schedule and next slot."""
    task = service.get_task(db, organization_id=principal.organization_id, task_id=task_id)
    return ok(TaskOut.of(task).model_dump(mode="json"))


@router.patch("/tasks/{task_id}", response_model=Envelope[TaskOut])
def update_task(
    task_id: str,
    body: TaskPatch,
    principal: Writer,
    db: DB,
    settings: AppSettings,
    engine: Engine,
) -> Any:
    """Change a task's name, prompt, scope, schedule, answerer or whether it is enabled."""
    task = service.update_task(
        db,
        organization_id=principal.organization_id,
        task_id=task_id,
        changes=body.changes(),
        limits=_limits(settings, engine),
        key_scope=principal.scope,
    )
    return ok(TaskOut.of(task).model_dump(mode="json"))


@router.delete("/tasks/{task_id}", response_model=Envelope[dict[str, Any]])
def delete_task(task_id: str, principal: Writer, db: DB) -> Any:
    """Delete a task and its runs."""
    service.delete_task(db, organization_id=principal.organization_id, task_id=task_id)
    return ok({"id": task_id, "deleted": True})


@router.post("/tasks/{task_id}/run", status_code=202, response_model=Envelope[TaskRunOut])
def run_task(task_id: str, principal: Writer, db: DB) -> Any:
    """Queue a run now; returns the run (poll `GET /task-runs/{id}` or await its event)."""
    run = runs.request_run(db, organization_id=principal.organization_id, task_id=task_id)
    return ok(TaskRunOut.of(run).model_dump(mode="json"))


@router.get("/tasks/{task_id}/runs", response_model=ListEnvelope[TaskRunOut])
def list_runs(
    task_id: str, principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """A task's runs, newest first, with their answers."""
    found = runs.list_runs(
        db,
        organization_id=principal.organization_id,
        task_id=task_id,
        limit=limit,
        cursor=cursor,
    )
    return page([TaskRunOut.of(r).model_dump(mode="json") for r in found.items], found.next_cursor)


@router.get("/task-runs/{run_id}", response_model=Envelope[TaskRunOut])
def get_run(run_id: str, principal: Reader, db: DB) -> Any:
    """A run: its status, timings, answer, citations and `found`."""
    run = runs.get_run(db, organization_id=principal.organization_id, run_id=run_id)
    return ok(TaskRunOut.of(run).model_dump(mode="json"))
