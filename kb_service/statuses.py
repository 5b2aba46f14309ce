"""The status vocabularies of stored rows: one `StrEnum` per table that has a lifecycle.

Members are `str`s, so they compare equal to the values stored in the database and to
the strings of the API contract; raw SQL interpolates `.value` where it names a status.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """An ingest job: queued → running → completed | failed | partially_failed."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIALLY_FAILED = "partially_failed"

    @classmethod
    def terminal(cls) -> frozenset[JobStatus]:
        return frozenset({cls.COMPLETED, cls.FAILED, cls.PARTIALLY_FAILED})


class ItemStatus(StrEnum):
    """One document of a job: pending → indexed | unchanged | superseded | failed.

    `superseded`: indexed, but a newer upload of the same document was committed first.
    """

    PENDING = "pending"
    INDEXED = "indexed"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"
    FAILED = "failed"

    @classmethod
    def ingested(cls) -> frozenset[ItemStatus]:
        """The item's content is in the knowledge base (now or until replaced)."""
        return frozenset({cls.INDEXED, cls.UNCHANGED, cls.SUPERSEDED})


class DocumentStatus(StrEnum):
    """A document: pending (reserved, no version live yet) → indexed."""

    PENDING = "pending"
    INDEXED = "indexed"


class MeetingStatus(StrEnum):
    """A meeting's history: live → ended → indexed, or failed after repeated attempts."""

    LIVE = "live"
    ENDED = "ended"
    INDEXED = "indexed"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    """A webhook delivery: pending → delivering → succeeded | pending (retry) | dead."""

    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


class IdempotencyState(StrEnum):
    """An idempotency record: in_flight (the first request runs) → completed."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class SourceType(StrEnum):
    """A web source: one URL crawled within its site, or a sitemap's pages."""

    URL = "url"
    SITEMAP = "sitemap"


class SyncTrigger(StrEnum):
    """Why a source sync was queued."""

    MANUAL = "manual"
    SCHEDULE = "schedule"


class SyncStatus(StrEnum):
    """A source sync: queued → running → completed | stopped | failed.

    `stopped`: the deletion safety share would have been exceeded; nothing was changed.
    """

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"

    @classmethod
    def active(cls) -> frozenset[SyncStatus]:
        return frozenset({cls.QUEUED, cls.RUNNING})


class TaskTrigger(StrEnum):
    """Why a task run was queued: asked for (`POST /tasks/{id}/run`) or a schedule slot."""

    MANUAL = "manual"
    SCHEDULE = "schedule"


class TaskRunStatus(StrEnum):
    """A task run: queued → running → completed | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def terminal(cls) -> frozenset[TaskRunStatus]:
        return frozenset({cls.COMPLETED, cls.FAILED})
