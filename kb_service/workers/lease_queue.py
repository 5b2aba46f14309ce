"""A table of jobs claimed with leases, so one job runs on one worker at a time.

A job is claimable when it is `queued`, or `running` with an expired lease (its
worker died or was killed), and no other job of the same group (`group` column: the
source of a sync, the task of a run) is running under a live lease. The oldest
claimable job goes first. A claim is one UPDATE: on PostgreSQL its candidate is
picked `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same job;
SQLite's single writer gives the same. While a job runs, its worker renews the lease
(`keep_alive`); its final write is fenced on the lease (`fence`), so a worker that
lost it cannot apply a job another worker has taken over.

The table has `id, status, lease_owner, lease_expires_at, attempts, created_at,
started_at` and its group column; subclasses name them (`table`, `group`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database

log = logging.getLogger(__name__)

# The claimable statuses, as every leased table spells them (`SyncStatus`, `TaskRunStatus`).
_QUEUED, _RUNNING = "queued", "running"


class LeaseLost(Exception):
    """This worker no longer holds the job's lease; another worker has taken it over."""


class LeaseQueue:
    """Claim, renew, fence and hand back the jobs of one table (see the module docstring)."""

    table: ClassVar[str]
    group: ClassVar[str]

    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)
        t, g = self.table, self.group
        self._candidate = (
            f"SELECT s.id FROM {t} s "
            f"WHERE (s.status = '{_QUEUED}' OR "
            f"(s.status = '{_RUNNING}' AND s.lease_expires_at < :now)) "
            f"AND NOT EXISTS (SELECT 1 FROM {t} r WHERE r.{g} = s.{g} "
            f"AND r.id <> s.id AND r.status = '{_RUNNING}' AND r.lease_expires_at >= :now) "
            "ORDER BY s.created_at, s.id LIMIT 1"
        )
        if not db.is_sqlite:
            self._candidate += " FOR UPDATE SKIP LOCKED"

    def claim(self, owner: str) -> tuple[str, int] | None:
        """Lease the oldest claimable job to `owner`: (its id, attempts so far), or None."""
        now = _naive(utcnow())
        take = (
            f"UPDATE {self.table} SET status = '{_RUNNING}', lease_owner = :owner, "
            "lease_expires_at = :expires, attempts = attempts + 1, "
            f"started_at = COALESCE(started_at, :now) WHERE id = ({self._candidate}) "
            "RETURNING id, attempts"
        )
        with self.db.session() as session:
            row = session.execute(
                text(take), {"owner": owner, "now": now, "expires": now + self.lease}
            ).first()
            return None if row is None else (str(row[0]), int(row[1]))

    def release(self, job_id: str, owner: str) -> bool:
        """Hand the job back (queued, no lease, the attempt not counted); False if lost."""
        with self.db.session() as session:
            result = session.execute(
                text(
                    f"UPDATE {self.table} SET status = '{_QUEUED}', lease_owner = NULL, "
                    "lease_expires_at = NULL, attempts = attempts - 1 "
                    f"WHERE id = :id AND lease_owner = :owner AND status = '{_RUNNING}'"
                ),
                {"id": job_id, "owner": owner},
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, job_id: str, owner: str) -> bool:
        """Extend the lease; False when it was lost."""
        with self.db.session() as session:
            return self._extend(session, job_id, owner)

    def keep_alive(self, job_id: str, owner: str, stop: threading.Event) -> None:
        """Renew the lease every third of its length until `stop` is set or it is lost."""
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                if not self.renew(job_id, owner):
                    return
            except Exception:  # a transient database error must not end the renewals
                log.warning("lease renewal failed for %s", job_id, exc_info=True)

    def fence(self, session: Session, job_id: str, owner: str) -> None:
        """Inside a transaction: extend the lease or raise `LeaseLost` (rolls back the caller)."""
        if not self._extend(session, job_id, owner):
            raise LeaseLost(job_id)

    def _extend(self, session: Session, job_id: str, owner: str) -> bool:
        result = session.execute(
            text(
                f"UPDATE {self.table} SET lease_expires_at = :expires "
                f"WHERE id = :id AND lease_owner = :owner AND status = '{_RUNNING}'"
            ),
            {"expires": _naive(utcnow()) + self.lease, "id": job_id, "owner": owner},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _naive(moment: datetime) -> datetime:
    """Timestamps are stored as naive UTC (see `UTCDateTime`); raw SQL must match."""
    return moment.replace(tzinfo=None)
