"""Task runs: queued on demand or by a schedule slot, listed, read, and shown as events.

A run is queued on demand (`request_run`) or by the task's schedule
(`queue_scheduled_run`, fired by `workers.scheduler`: one run per slot, the slot
unique per task). Its time window is fixed when it is queued: the task's `since`
resolved against the slot (on demand: the moment it was asked for). The run itself
executes in the background (`workers/tasks`), where its answer is composed by the
same search service as `POST /search`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import iso_z, utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.pagination import Page, paginate
from kb_service.db.tasks import Task, TaskRun
from kb_service.errors import InvalidInput, NotFound
from kb_service.statuses import TaskRunStatus, TaskTrigger

_RELATIVE = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def check_since(since: str | None) -> str | None:
    """`since` as stored: a relative window ("7d", "24h", "30m", "2w") or an ISO instant."""
    if since is None:
        return None
    since = since.strip()
    if _RELATIVE.fullmatch(since):
        return since
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        message = (
            f"since {since!r} is neither a window such as '7d', '24h', '30m' or '2w' nor an "
            "ISO 8601 date or time such as '2026-03-01T00:00:00Z'."
        )
        raise InvalidInput(
            message, errors=[{"field": "scope.since", "message": message, "type": "value_error"}]
        ) from None
    return iso_z(_aware(moment))


def window_start(since: str | None, slot: datetime) -> datetime | None:
    """The earliest creation time a run at `slot` may cite (None: no limit)."""
    if since is None:
        return None
    relative = _RELATIVE.fullmatch(since)
    if relative:
        return slot - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    return _aware(datetime.fromisoformat(since))


def _aware(moment: datetime) -> datetime:
    """An ISO time without an offset is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 1)


def run_view(run: TaskRun) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id,
        "task_id": run.task_id,
        "trigger": run.trigger,
        "scheduled_for": _iso(run.scheduled_for),
        "window_start": _iso(run.window_start),
        "status": run.status,
        "prompt": run.prompt,
        "answer": run.answer,
        "answerer": run.answerer,
        "citations": list(run.citations),
        "found": run.found,
        "confidence": run.confidence,
        "notice": run.notice,
        "error": run.error,
        "timings": {
            "queued_ms": _ms(run.created_at, run.started_at),
            "run_ms": _ms(run.started_at, run.finished_at),
            "stages_ms": dict(run.timings),
        },
        "attempts": run.attempts,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


def run_event(run: TaskRun, task: Task) -> dict[str, Any]:
    """The `data` of a `task.completed` / `task.failed` event: the run and its task's name."""
    return {**run_view(run), "task_name": task.name}


def load_task(session: Session, *, organization_id: str, task_id: str) -> Task:
    """The organization's task, inside the caller's transaction (else `NotFound`)."""
    task = session.get(Task, task_id)
    if task is None or task.organization_id != organization_id:
        raise NotFound.of("task", task_id)
    return task


def request_run(db: Database, *, organization_id: str, task_id: str) -> TaskRun:
    """Queue a run of the task now (a disabled task runs on demand too)."""
    with db.session() as session:
        task = load_task(session, organization_id=organization_id, task_id=task_id)
        return _queue(session, task, TaskTrigger.MANUAL, None, utcnow())


def queue_scheduled_run(session: Session, task: Task, slot: datetime) -> None:
    """A schedule slot of `task` came due: queue its run (one per slot)."""
    _queue(session, task, TaskTrigger.SCHEDULE, slot, slot)


def _queue(
    session: Session, task: Task, trigger: TaskTrigger, slot: datetime | None, at: datetime
) -> TaskRun:
    run = TaskRun(
        task_id=task.id,
        organization_id=task.organization_id,
        trigger=trigger,
        scheduled_for=slot,
        window_start=window_start(task.scope.get("since"), at),
        prompt=task.prompt,
        status=TaskRunStatus.QUEUED,
        citations=[],
        timings={},
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    wake_after_commit(session, Wake.TASKS)
    return run


def list_runs(
    db: Database, *, organization_id: str, task_id: str, limit: int, cursor: str | None
) -> Page[TaskRun]:
    """A task's runs, newest first."""
    with db.session() as session:
        load_task(session, organization_id=organization_id, task_id=task_id)
        return paginate(
            session,
            select(TaskRun).where(TaskRun.task_id == task_id),
            created_at=TaskRun.created_at,
            row_id=TaskRun.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )


def get_run(db: Database, *, organization_id: str, run_id: str) -> TaskRun:
    """A run of one of the organization's tasks (else `NotFound`)."""
    with db.session() as session:
        run = session.get(TaskRun, run_id)
        if run is None or run.organization_id != organization_id:
            raise NotFound.of("task run", run_id)
        return run
