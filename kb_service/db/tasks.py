"""Tasks (saved grounded questions, on demand or on a schedule) and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import TaskRunStatus, TaskTrigger


class Task(Base):
    """A prompt over a scope, answered with citations by each of its runs.

    `scope` is `{knowledge_base_ids, project_ids, include_meetings, since}` (ids may be
    null: unconstrained). A schedule is either `cron` in `timezone` or every
    `interval_minutes` from `schedule_anchor` (the moment the schedule was set);
    `next_run_at` is its next slot (NULL: no schedule, or disabled; see
    `workers/scheduler.py`). `answerer` NULL: generative when an LLM is configured.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_org_created", "organization_id", "created_at", "id"),
        Index("ix_tasks_due", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tsk"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    scope: Mapped[dict[str, Any]]
    top_k: Mapped[int] = mapped_column(Integer)
    answerer: Mapped[str | None] = mapped_column(String(16))
    cron: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    schedule_anchor: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean)
    next_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskRun(Base):
    """One run of a task: a job. status: queued → running → completed | failed.

    `scheduled_for` is the schedule slot that queued it (NULL: on demand), unique per
    task, so a slot never queues two runs. `window_start` is the task's `since`
    resolved against the run's slot (or, on demand, its creation) and `prompt` the
    task's prompt when the run was queued. The answer, its citations and the
    answerability verdict are kept as the run produced them.
    """

    __tablename__ = "task_runs"
    __table_args__ = (
        UniqueConstraint("task_id", "scheduled_for"),
        Index("ix_task_runs_claim", "status", "created_at"),
        Index("ix_task_runs_task_created", "task_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("run"))
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[TaskTrigger] = mapped_column(StatusType(TaskTrigger, 16))
    scheduled_for: Mapped[datetime | None]
    window_start: Mapped[datetime | None]
    prompt: Mapped[str] = mapped_column(Text)
    status: Mapped[TaskRunStatus] = mapped_column(
        StatusType(TaskRunStatus, 16), default=TaskRunStatus.QUEUED
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answerer: Mapped[str | None] = mapped_column(String(16))
    citations: Mapped[list[Any]] = mapped_column(default=list)
    found: Mapped[bool | None] = mapped_column(Boolean)
    confidence: Mapped[float | None] = mapped_column(Float)
    notice: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # ms by query stage
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
