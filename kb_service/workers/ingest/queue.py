"""Claiming ingest jobs with leases.

A job is claimable when it is `queued`, or `running` with an expired lease (its
worker died). Claims are one atomic UPDATE: on PostgreSQL the candidate row is
picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers never block on or
double-claim a job; on SQLite the single writer lock gives the same guarantee.
Every state change a worker makes is fenced on its lease (`lease_owner`), so a
worker that lost its lease cannot overwrite the new owner's progress.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.statuses import JobStatus

MAX_ATTEMPTS = 5

_QUEUED, _RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value
_CLAIMABLE = f"(status = '{_QUEUED}' OR (status = '{_RUNNING}' AND lease_expires_at < :now))"
_CANDIDATE = f"SELECT id FROM ingest_jobs WHERE {_CLAIMABLE} ORDER BY created_at, id LIMIT 1"
_TAKE = f"""
    UPDATE ingest_jobs
    SET status = '{_RUNNING}', lease_owner = :worker, lease_expires_at = :expires,
        attempts = attempts + 1, started_at = COALESCE(started_at, :now)
"""


class LeaseLost(Exception):
    """This worker no longer owns the job's lease; another worker has taken it over."""


class JobQueue:
    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)

    def claim(self, worker_id: str) -> str | None:
        """Take the oldest claimable job, or None when there is nothing to do."""
        candidate = _CANDIDATE if self.db.is_sqlite else _CANDIDATE + " FOR UPDATE SKIP LOCKED"
        return self._take(f"{_TAKE} WHERE id = ({candidate}) RETURNING id", worker_id)

    def claim_job(self, job_id: str, worker_id: str) -> bool:
        """Take this one job if it is claimable (queued, or its worker's lease expired).

        On PostgreSQL the UPDATE waits for a concurrent claim of the row to commit and
        then re-checks the condition, so a job is never claimed twice.
        """
        statement = f"{_TAKE} WHERE id = :id AND {_CLAIMABLE} RETURNING id"
        return self._take(statement, worker_id, id=job_id) is not None

    def _take(self, statement: str, worker_id: str, **params: str) -> str | None:
        now = utcnow()
        with self.db.session() as session:
            row = session.execute(
                text(statement),
                {
                    "worker": worker_id,
                    "now": _naive(now),
                    "expires": _naive(now + self.lease),
                    **params,
                },
            ).first()
            return None if row is None else str(row[0])

    def renew(self, job_id: str, worker_id: str) -> bool:
        """Extend the lease; False when it was lost."""
        with self.db.session() as session:
            return self._extend(session, job_id, worker_id)

    def fence(self, session: Session, job_id: str, worker_id: str) -> None:
        """Inside a transaction: extend the lease or raise `LeaseLost` (rolls back the caller)."""
        if not self._extend(session, job_id, worker_id):
            raise LeaseLost(job_id)

    def _extend(self, session: Session, job_id: str, worker_id: str) -> bool:
        result = session.execute(
            text(
                "UPDATE ingest_jobs SET lease_expires_at = :expires "
                f"WHERE id = :id AND lease_owner = :worker AND status = '{_RUNNING}'"
            ),
            {"expires": _naive(utcnow() + self.lease), "id": job_id, "worker": worker_id},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _naive(moment):  # type: ignore[no-untyped-def]
    """Timestamps are stored as naive UTC (see `UTCDateTime`); raw SQL must match."""
    return moment.replace(tzinfo=None)
