"""Claiming ingest jobs with leases, fairly across organizations and knowledge bases.

A job is claimable when it is `queued`, or `running` with an expired lease (its
worker died). Among claimable jobs a claim takes, in this order of preference:

1. the organization with the fewest running jobs (live leases);
2. the organization served least recently (its latest claim of any job is oldest);
3. within it, the knowledge base with the fewest running jobs, then the one served
   least recently;
4. the oldest job (FIFO).

So one organization's backlog never keeps another's first job waiting for a free
worker, and a job handed back at the end of its time slice (`release`, see
`processor.py`) goes behind the jobs of everyone who has not had a turn since.

Claims are one atomic UPDATE: on PostgreSQL the candidate row is picked with
`FOR UPDATE SKIP LOCKED`, so concurrent workers never block on or double-claim a
job; on SQLite the single writer lock gives the same guarantee. Every state change a
worker makes is fenced on its lease (`lease_owner`), so a worker that lost its lease
cannot overwrite the new owner's progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.statuses import ItemStatus, JobStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

_QUEUED, _RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value
_CLAIMABLE = f"(status = '{_QUEUED}' OR (status = '{_RUNNING}' AND lease_expires_at < :now))"
_RUNNING_IN = (
    "(SELECT COUNT(*) FROM ingest_jobs r WHERE r.{col} = j.{col} "
    f"AND r.status = '{_RUNNING}' AND r.lease_expires_at >= :now)"
)
_LAST_CLAIM_IN = (
    "COALESCE((SELECT MAX(r.claimed_at) FROM ingest_jobs r WHERE r.{col} = j.{col}), :epoch)"
)
_CANDIDATE = (
    "SELECT j.id FROM ingest_jobs j "
    f"WHERE (j.status = '{_QUEUED}' OR (j.status = '{_RUNNING}' AND j.lease_expires_at < :now)) "
    "ORDER BY "
    + ", ".join(
        (
            _RUNNING_IN.format(col="organization_id"),
            _LAST_CLAIM_IN.format(col="organization_id"),
            _RUNNING_IN.format(col="knowledge_base_id"),
            _LAST_CLAIM_IN.format(col="knowledge_base_id"),
        )
    )
    + ", j.created_at, j.id LIMIT 1"
)
_TAKE = f"""
    UPDATE ingest_jobs
    SET status = '{_RUNNING}', lease_owner = :worker, lease_expires_at = :expires,
        attempts = attempts + 1, started_at = COALESCE(started_at, :now), claimed_at = :now
"""
_EPOCH = datetime(1970, 1, 1)


class LeaseLost(Exception):
    """This worker no longer owns the job's lease; another worker has taken it over."""


class JobQueue:
    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)

    def claim(self, worker_id: str) -> str | None:
        """Take the fairest claimable job (see the module docstring), or None."""
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
                    "epoch": _EPOCH,
                    **params,
                },
            ).first()
            return None if row is None else str(row[0])

    def others_waiting(self, job_id: str) -> bool:
        """Is a job of another knowledge base claimable (so this one should take turns)?"""
        with self.db.session() as session:
            row = session.execute(
                text(
                    f"SELECT 1 FROM ingest_jobs WHERE {_CLAIMABLE} AND knowledge_base_id <> "
                    "(SELECT knowledge_base_id FROM ingest_jobs WHERE id = :id) LIMIT 1"
                ),
                {"now": _naive(utcnow()), "id": job_id},
            ).first()
            return row is not None

    def release(self, job_id: str, worker_id: str, give_back: Sequence[str] = ()) -> bool:
        """Hand the job back to the queue (queued, no lease); False if the lease was lost.

        A hand-back is not a failed attempt: the job's `attempts` and the parse attempts
        of its still-pending items in `give_back` (parses this worker started but did
        not finish or commit) are counted back down.
        """
        with self.db.session() as session:
            result = session.execute(
                text(
                    f"UPDATE ingest_jobs SET status = '{_QUEUED}', lease_owner = NULL, "
                    "lease_expires_at = NULL, attempts = attempts - 1 "
                    f"WHERE id = :id AND lease_owner = :worker AND status = '{_RUNNING}'"
                ),
                {"id": job_id, "worker": worker_id},
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            if give_back:
                session.execute(
                    update(IngestItem)
                    .where(
                        IngestItem.id.in_(list(give_back)),
                        IngestItem.status == ItemStatus.PENDING,
                        IngestItem.parse_attempts > 0,
                    )
                    .values(parse_attempts=IngestItem.parse_attempts - 1)
                )
            return True

    def release_owned(self, owners: Sequence[str]) -> int:
        """Hand back every running job leased by `owners` (this process is stopping)."""
        if not owners:
            return 0
        with self.db.session() as session:
            result = session.execute(
                update(IngestJob)
                .where(
                    IngestJob.lease_owner.in_(list(owners)), IngestJob.status == JobStatus.RUNNING
                )
                .values(status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, job_id: str, worker_id: str) -> bool:
        """Extend the lease; False when it was lost."""
        with self.db.session() as session:
            return self._extend(session, job_id, worker_id)

    def keep_alive(self, job_id: str, worker_id: str, stop: threading.Event) -> None:
        """Renew the lease every third of its length until `stop` is set or it is lost."""
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                if not self.renew(job_id, worker_id):
                    return
            except Exception:  # a transient database error must not end the renewals
                log.warning("lease renewal failed for %s", job_id, exc_info=True)

    def fence(self, session: Session, job_id: str, worker_id: str) -> None:
        """Inside a transaction: extend the lease or raise `LeaseLost` (rolls back the caller)."""
        if not self._extend(session, job_id, worker_id):
            raise LeaseLost(job_id)

    def _extend(self, session: Session, job_id: str, worker_id: str) -> bool:
        result = session.execute(
            text(
                "UPDATE ingest_jobs SET lease_expires_at = :expires "
                "WHERE id = :id AND lease_owner = :worker AND status = 'running'"
            ),
            {"expires": _naive(utcnow() + self.lease), "id": job_id, "worker": worker_id},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _naive(moment):  # type: ignore[no-untyped-def]
    """Timestamps are stored as naive UTC (see `UTCDateTime`); raw SQL must match."""
    return moment.replace(tzinfo=None)
