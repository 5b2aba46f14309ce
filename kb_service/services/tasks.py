"""Tasks: saved grounded questions over a scope, answered on demand or on a schedule.

Create, list, read, change and delete tasks, and say when a task's next slot is
(`next_run`, which the scheduler calls after each slot it fires). Everything a task
names is checked when it is saved: its knowledge bases and projects must be the
organization's (else `NotFound`) and, saved by a scoped key, inside the key's
scope (`scopes.task_names`: naming none names the key's scope), its schedule must parse (a five-field cron
expression in an IANA time zone, or an interval) and its slots come no closer than
`min_interval_minutes`, and an organization has at most `max_enabled_per_org`
enabled tasks. Runs: `services.task_runs`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.identity import Organization
from kb_service.db.pagination import Page, paginate
from kb_service.db.tasks import Task
from kb_service.errors import InvalidInput
from kb_service.schedules import CronSchedule, InvalidSchedule, next_slot
from kb_service.services import scopes
from kb_service.services.search import MAX_QUERY_CHARS
from kb_service.services.search_scope import QueryFilter, organization_scope
from kb_service.services.task_runs import check_since, load_task
from kb_service.services.task_specs import TaskLimits, TaskSchedule, TaskScope, TaskSpec

__all__ = ["TaskLimits", "TaskSchedule", "TaskScope", "TaskSpec", "next_run"]


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, errors=[{"field": field_name, "message": message, "type": "value_error"}]
    )


def next_run(task: Task, now: datetime) -> datetime | None:
    """The task's first slot strictly after `now` (None: disabled, or no schedule)."""
    if not task.enabled:
        return None
    if task.cron:
        return CronSchedule.parse(task.cron, task.timezone or "UTC").next_after(now)
    if task.interval_minutes and task.schedule_anchor is not None:
        return next_slot(task.schedule_anchor, timedelta(minutes=task.interval_minutes), now)
    return None


def _checked_schedule(schedule: TaskSchedule | None, limits: TaskLimits) -> TaskSchedule | None:
    """The schedule as stored (cron normalised, time zone defaulted), or `InvalidInput`."""
    if schedule is None:
        return None
    minimum = limits.min_interval_minutes
    if schedule.cron is not None and schedule.interval_minutes is not None:
        raise _invalid(
            "schedule",
            "Give a schedule either a cron expression (with its timezone) or "
            "interval_minutes, not both.",
        )
    if schedule.cron is None:
        if schedule.interval_minutes is None:
            raise _invalid("schedule", "A schedule needs a cron expression or interval_minutes.")
        if schedule.timezone is not None:
            raise _invalid("schedule.timezone", "A timezone goes with a cron expression only.")
        if schedule.interval_minutes < minimum:
            raise _invalid(
                "schedule.interval_minutes",
                f"interval_minutes must be at least {minimum} (KB_TASK_MIN_INTERVAL_MINUTES).",
            )
        return schedule
    try:
        cron = CronSchedule.parse(schedule.cron, schedule.timezone or "UTC")
    except InvalidSchedule as exc:
        raise _invalid(f"schedule.{exc.field}", str(exc)) from None
    gap = cron.shortest_wall_gap()
    if gap < timedelta(minutes=minimum):
        raise _invalid(
            "schedule.cron",
            f"The cron expression {cron.expression!r} fires {gap.total_seconds() / 60:g} "
            f"minutes apart; the least allowed is {minimum} (KB_TASK_MIN_INTERVAL_MINUTES).",
        )
    return TaskSchedule(cron=cron.expression, timezone=cron.zone.key)


def _checked_text(field_name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise _invalid(field_name, f"{field_name} must be 1 to {limit} characters.")
    return value


def _check_scope(
    session: Session, organization_id: str, scope: TaskScope, key_scope: scopes.Scope
) -> TaskScope:
    kb_ids, project_ids = scopes.task_names(
        session, key_scope, scope.knowledge_base_ids, scope.project_ids
    )
    organization_scope(  # `NotFound` for a knowledge base or project of another organization
        session,
        organization_id=organization_id,
        knowledge_base_ids=kb_ids,
        project_ids=project_ids,
        include_meetings=scope.include_meetings,
        filters=QueryFilter(),
    )
    return TaskScope(
        knowledge_base_ids=kb_ids,
        project_ids=project_ids,
        include_meetings=scope.include_meetings,
        since=check_since(scope.since),
    )


def _check_answerer(answerer: str | None, limits: TaskLimits) -> str | None:
    if answerer == "generative" and not limits.generative_available:
        raise _invalid(
            "answerer",
            "The generative answerer is not configured (set KB_LLM_BASE_URL and KB_LLM_MODEL).",
        )
    return answerer


def _check_enabled_count(session: Session, organization_id: str, limits: TaskLimits) -> None:
    """After this transaction's task is written: refuse one enabled task too many."""
    count = session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.organization_id == organization_id, Task.enabled.is_(True))
    )
    if (count or 0) > limits.max_enabled_per_org:
        raise _invalid(
            "enabled",
            f"Your organization already has {limits.max_enabled_per_org} enabled tasks, the "
            "most allowed (KB_TASK_MAX_ENABLED_PER_ORG); disable or delete one first.",
        )


def _lock_organization(session: Session, organization_id: str) -> None:
    # PostgreSQL: concurrent saves of one organization's tasks count one after another.
    # SQLite: the first write takes the database's write lock, and the count follows it.
    session.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )


def _apply_schedule(task: Task, schedule: TaskSchedule | None, now: datetime) -> None:
    task.cron = schedule.cron if schedule else None
    task.timezone = schedule.timezone if schedule else None
    task.interval_minutes = schedule.interval_minutes if schedule else None
    task.schedule_anchor = now if schedule and schedule.interval_minutes else None


def create_task(
    db: Database,
    *,
    organization_id: str,
    spec: TaskSpec,
    limits: TaskLimits,
    key_scope: scopes.Scope = None,
) -> Task:
    """A new task; with a schedule and enabled, its first slot is the next one after now."""
    name = _checked_text("name", spec.name, 200)
    prompt = _checked_text("prompt", spec.prompt, MAX_QUERY_CHARS)
    schedule = _checked_schedule(spec.schedule, limits)
    answerer = _check_answerer(spec.answerer, limits)
    now = utcnow()
    with db.session() as session:
        scope = _check_scope(session, organization_id, spec.scope, key_scope)
        _lock_organization(session, organization_id)
        task = Task(
            organization_id=organization_id,
            name=name,
            prompt=prompt,
            scope=scope.stored(),
            top_k=spec.top_k,
            answerer=answerer,
            enabled=spec.enabled,
            created_at=now,
            updated_at=now,
        )
        _apply_schedule(task, schedule, now)
        task.next_run_at = next_run(task, now)
        session.add(task)
        session.flush()
        if task.enabled:
            _check_enabled_count(session, organization_id, limits)
    return task


def update_task(
    db: Database,
    *,
    organization_id: str,
    task_id: str,
    changes: dict[str, Any],
    limits: TaskLimits,
    key_scope: scopes.Scope = None,
) -> Task:
    """Change the given fields (`TaskSpec` names; `schedule: None` removes the schedule)."""
    now = utcnow()
    with db.session() as session:
        task = load_task(session, organization_id=organization_id, task_id=task_id)
        if "name" in changes:
            task.name = _checked_text("name", changes["name"], 200)
        if "prompt" in changes:
            task.prompt = _checked_text("prompt", changes["prompt"], MAX_QUERY_CHARS)
        if "scope" in changes:
            scope = _check_scope(session, organization_id, changes["scope"], key_scope)
            task.scope = scope.stored()
        if "answerer" in changes:
            task.answerer = _check_answerer(changes["answerer"], limits)
        if "top_k" in changes:
            task.top_k = changes["top_k"]
        if "schedule" in changes:
            _apply_schedule(task, _checked_schedule(changes["schedule"], limits), now)
        enabling = changes.get("enabled") is True and not task.enabled
        if "enabled" in changes:
            task.enabled = changes["enabled"]
        if enabling:
            _lock_organization(session, organization_id)
        task.next_run_at = next_run(task, now)
        task.updated_at = now
        session.flush()
        if enabling:
            _check_enabled_count(session, organization_id, limits)
    return task


def list_tasks(
    db: Database, *, organization_id: str, scope: scopes.Scope, limit: int, cursor: str | None
) -> Page[Task]:
    """The organization's tasks inside the key's scope, oldest first."""
    with db.session() as session:
        query = select(Task).where(Task.organization_id == organization_id)
        if scope is not None:
            inside = scopes.task_ids_inside(session, organization_id=organization_id, scope=scope)
            query = query.where(Task.id.in_(inside))
        return paginate(
            session,
            query,
            created_at=Task.created_at,
            row_id=Task.id,
            limit=limit,
            cursor=cursor,
        )


def get_task(db: Database, *, organization_id: str, task_id: str) -> Task:
    """A task of the organization (else `NotFound`)."""
    with db.session() as session:
        return load_task(session, organization_id=organization_id, task_id=task_id)


def delete_task(db: Database, *, organization_id: str, task_id: str) -> None:
    """Delete the task and its runs; a run in progress writes nothing when it ends."""
    with db.session() as session:
        session.delete(load_task(session, organization_id=organization_id, task_id=task_id))
