"""Request and response bodies of the web source routes: sources and their syncs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kb_service.db.sources import SourceSync
from kb_service.services.sources import SourceWithSync, sync_view
from kb_service.statuses import SourceType, SyncStatus, SyncTrigger

Glob = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_minutes: int = Field(ge=1, le=525_600, description="Sync every this many minutes.")


class SourceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "sitemap",
                    "url": "https://docs.example.com/sitemap.xml",
                    "schedule": {"interval_minutes": 60},
                    "include": ["/guide/*"],
                    "exclude": ["*.pdf"],
                    "max_pages": 200,
                }
            ]
        },
    )
    type: SourceType
    url: str = Field(min_length=1, max_length=2000)
    schedule: ScheduleIn | None = None
    include: list[Glob] = Field(default_factory=list, max_length=50)
    exclude: list[Glob] = Field(default_factory=list, max_length=50)
    max_pages: int | None = Field(
        default=None, ge=1, le=10_000, description="Default: KB_SOURCE_MAX_PAGES (500)."
    )


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_mass_delete: bool = Field(
        default=False,
        description="Apply this sync even if it deletes more than KB_SOURCE_MAX_DELETE_SHARE of the pages.",
    )


class SyncCounts(BaseModel):
    fetched: int
    created: int
    unchanged: int
    updated: int
    deleted: int
    failed: int
    skipped: int = Field(description="Pages robots.txt disallows.")


class SyncOut(BaseModel):
    id: str
    source_id: str
    knowledge_base_id: str
    trigger: SyncTrigger
    scheduled_for: datetime | None
    status: SyncStatus
    counts: SyncCounts
    failures: list[dict[str, Any]]
    ingest_job_ids: list[str]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, sync: SourceSync) -> SyncOut:
        return cls.model_validate(sync_view(sync))


class SourceOut(BaseModel):
    id: str
    knowledge_base_id: str
    type: SourceType
    url: str
    schedule: ScheduleIn | None
    include: list[str]
    exclude: list[str]
    max_pages: int
    next_run_at: datetime | None
    last_sync: SyncOut | None
    created_at: datetime

    @classmethod
    def of(cls, item: SourceWithSync) -> SourceOut:
        source = item.source
        return cls(
            id=source.id,
            knowledge_base_id=source.knowledge_base_id,
            type=source.type,
            url=source.url,
            schedule=ScheduleIn(interval_minutes=source.interval_minutes)
            if source.interval_minutes
            else None,
            include=list(source.include),
            exclude=list(source.exclude),
            max_pages=source.max_pages,
            next_run_at=source.next_run_at,
            last_sync=SyncOut.of(item.last_sync) if item.last_sync else None,
            created_at=source.created_at,
        )
