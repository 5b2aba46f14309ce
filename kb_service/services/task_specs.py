"""The shapes of a task as it is saved: its scope, schedule, settable fields and limits.

`services.tasks` checks and stores them; the API schemas build them from requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskScope:
    """What a task's runs search: as `POST /search`'s scope, plus the `since` window."""

    knowledge_base_ids: list[str] | None = None
    project_ids: list[str] | None = None
    include_meetings: bool = True
    since: str | None = None  # "7d", "24h", "30m", "2w", or an ISO date or time

    def stored(self) -> dict[str, Any]:
        return {
            "knowledge_base_ids": self.knowledge_base_ids,
            "project_ids": self.project_ids,
            "include_meetings": self.include_meetings,
            "since": self.since,
        }


@dataclass(frozen=True)
class TaskSchedule:
    """As given: `cron` (with `timezone`, default UTC) or `interval_minutes`, not both."""

    cron: str | None = None
    timezone: str | None = None
    interval_minutes: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A task's settable fields."""

    name: str
    prompt: str
    scope: TaskScope = field(default_factory=TaskScope)
    schedule: TaskSchedule | None = None
    answerer: str | None = None  # "extractive", "generative", None: generative if configured
    enabled: bool = True
    top_k: int = 8


@dataclass(frozen=True)
class TaskLimits:
    """`KB_TASK_MIN_INTERVAL_MINUTES` and `KB_TASK_MAX_ENABLED_PER_ORG`, and the LLM's presence."""

    min_interval_minutes: int
    max_enabled_per_org: int
    generative_available: bool
