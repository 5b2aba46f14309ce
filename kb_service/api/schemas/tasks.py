"""Request and response bodies of the task routes: tasks and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kb_service.db.tasks import Task, TaskRun
from kb_service.services.search import MAX_QUERY_CHARS
from kb_service.services.task_runs import run_view
from kb_service.services.tasks import TaskSchedule, TaskScope, TaskSpec
from kb_service.statuses import TaskRunStatus, TaskTrigger

Answerer = Literal["extractive", "generative"]
_EXAMPLE: dict[str, Any] = {
    "name": "Payments weekly digest",
    "prompt": "What did the Payments team decide last week, and what is still open?",
    "scope": {"project_ids": ["prj_6y8u0i2o4p6a8s0d2f4g6h8j"], "since": "7d"},
    "schedule": {"cron": "0 9 * * 1", "timezone": "Europe/Lisbon"},
    "enabled": True,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskScopeIn(_Strict):
    knowledge_base_ids: list[str] | None = Field(default=None, max_length=100)
    project_ids: list[str] | None = Field(default=None, max_length=100)
    include_meetings: bool = True
    since: str | None = Field(
        default=None,
        max_length=64,
        description="Only content created (meetings held) since then: a window before the "
        "run's slot ('30m', '24h', '7d', '2w') or an ISO 8601 date or time.",
    )

    def to_domain(self) -> TaskScope:
        return TaskScope(
            knowledge_base_ids=self.knowledge_base_ids,
            project_ids=self.project_ids,
            include_meetings=self.include_meetings,
            since=self.since,
        )


class TaskScheduleIn(_Strict):
    cron: str | None = Field(
        default=None, max_length=200, description="Five fields, e.g. '0 9 * * 1' (Mondays 9:00)."
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA time zone of `cron` (default UTC)."
    )
    interval_minutes: int | None = Field(
        default=None, ge=1, le=525_600, description="Instead of cron: every this many minutes."
    )

    def to_domain(self) -> TaskSchedule:
        return TaskSchedule(self.cron, self.timezone, self.interval_minutes)


class TaskIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    name: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    scope: TaskScopeIn = Field(default_factory=TaskScopeIn)
    schedule: TaskScheduleIn | None = Field(default=None, description="None: on demand only.")
    answerer: Answerer | None = Field(
        default=None, description="default: generative when KB_LLM_BASE_URL is set"
    )
    enabled: bool = Field(default=True, description="Whether the schedule fires.")
    top_k: int = Field(default=8, ge=1, le=50, description="Passages each answer draws on.")

    def to_domain(self) -> TaskSpec:
        return TaskSpec(
            name=self.name,
            prompt=self.prompt,
            scope=self.scope.to_domain(),
            schedule=self.schedule.to_domain() if self.schedule else None,
            answerer=self.answerer,
            enabled=self.enabled,
            top_k=self.top_k,
        )


class TaskPatch(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"enabled": False}, {"schedule": None}]}
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    prompt: str | None = Field(default=None, min_length=1, max_length=MAX_QUERY_CHARS)
    scope: TaskScopeIn | None = Field(default=None, description="Replaces the whole scope.")
    schedule: TaskScheduleIn | None = Field(default=None, description="null: on demand only.")
    answerer: Answerer | None = None
    enabled: bool | None = None
    top_k: int | None = Field(default=None, ge=1, le=50)

    @field_validator("name", "prompt", "scope", "enabled", "top_k")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means unchanged; an explicit null would erase a required field.
        if value is None:
            raise ValueError("send a value or leave the field out")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields sent, in the service's terms."""
        changes: dict[str, Any] = {
            name: getattr(self, name) for name in self.model_fields_set if name != "scope"
        }
        if self.scope is not None:
            changes["scope"] = self.scope.to_domain()
        if "schedule" in changes and self.schedule is not None:
            changes["schedule"] = self.schedule.to_domain()
        return changes


class TaskScopeOut(BaseModel):
    knowledge_base_ids: list[str] | None
    project_ids: list[str] | None
    include_meetings: bool
    since: str | None


class TaskScheduleOut(BaseModel):
    cron: str | None
    timezone: str | None
    interval_minutes: int | None


class TaskOut(BaseModel):
    id: str
    name: str
    prompt: str
    scope: TaskScopeOut
    schedule: TaskScheduleOut | None
    answerer: Answerer | None
    top_k: int
    enabled: bool
    next_run_at: datetime | None = Field(description="The next slot; null when none fires.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        scheduled = task.cron or task.interval_minutes
        return cls(
            id=task.id,
            name=task.name,
            prompt=task.prompt,
            scope=TaskScopeOut.model_validate(task.scope),
            schedule=TaskScheduleOut(
                cron=task.cron, timezone=task.timezone, interval_minutes=task.interval_minutes
            )
            if scheduled
            else None,
            answerer=task.answerer,  # type: ignore[arg-type]
            top_k=task.top_k,
            enabled=task.enabled,
            next_run_at=task.next_run_at,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class TaskRunTimings(BaseModel):
    queued_ms: float | None = Field(description="From queued to started.")
    run_ms: float | None = Field(description="From started to finished.")
    stages_ms: dict[str, float] = Field(description="The answer's stages: scope, embed, ...")


class TaskRunOut(BaseModel):
    id: str
    task_id: str
    trigger: TaskTrigger
    scheduled_for: datetime | None = Field(description="The schedule slot; null on demand.")
    window_start: datetime | None = Field(description="`since`, resolved for this run.")
    status: TaskRunStatus
    prompt: str
    answer: str | None
    answerer: str | None
    citations: list[dict[str, Any]]
    found: bool | None = Field(description="Whether the knowledge answers the prompt.")
    confidence: float | None
    notice: str | None
    error: str | None
    timings: TaskRunTimings
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: TaskRun) -> TaskRunOut:
        return cls.model_validate(run_view(run))
