"""Claiming source syncs with leases, so one sync runs on one worker at a time.

A sync is claimable when it is `queued`, or `running` with an expired lease (its
worker died or was killed), and no other sync of the same source is running under a
live lease. The oldest claimable sync goes first. A claim is one UPDATE: on
PostgreSQL its candidate is picked `FOR UPDATE SKIP LOCKED`, so concurrent claimers
never take the same sync; SQLite's single writer gives the same. While a sync runs,
its worker renews the lease (`keep_alive`); its final write is fenced on the lease
(`fence`), so a worker that lost it cannot apply a sync another worker has taken over.
A sync claimed `MAX_ATTEMPTS` times without finishing is failed.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.statuses import SyncStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

_QUEUED, _RUNNING = SyncStatus.QUEUED.value, SyncStatus.RUNNING.value
_CANDIDATE = (
    "SELECT s.id FROM source_syncs s "
    f"WHERE (s.status = '{_QUEUED}' OR (s.status = '{_RUNNING}' AND s.lease_expires_at < :now)) "
    "AND NOT EXISTS (SELECT 1 FROM source_syncs r WHERE r.source_id = s.source_id "
    f"AND r.id <> s.id AND r.status = '{_RUNNING}' AND r.lease_expires_at >= :now) "
    "ORDER BY s.created_at, s.id LIMIT 1"
)
_TAKE = (
    f"UPDATE source_syncs SET status = '{_RUNNING}', lease_owner = :owner, "
    "lease_expires_at = :expires, attempts = attempts + 1, "
    "started_at = COALESCE(started_at, :now) WHERE id = ({candidate}) RETURNING id, attempts"
)


class LeaseLost(Exception):
    """This worker no longer holds the sync's lease; another worker has taken it over."""


class SyncQueue:
    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)

    def claim(self, owner: str) -> tuple[str, int] | None:
        """Lease the oldest claimable sync to `owner`: (its id, attempts so far), or None."""
        candidate = _CANDIDATE if self.db.is_sqlite else _CANDIDATE + " FOR UPDATE SKIP LOCKED"
        now = _naive(utcnow())
        with self.db.session() as session:
            row = session.execute(
                text(_TAKE.format(candidate=candidate)),
                {"owner": owner, "now": now, "expires": now + self.lease},
            ).first()
            return None if row is None else (str(row[0]), int(row[1]))

    def release(self, sync_id: str, owner: str) -> bool:
        """Hand the sync back (queued, no lease, the attempt not counted); False if lost."""
        with self.db.session() as session:
            result = session.execute(
                text(
                    f"UPDATE source_syncs SET status = '{_QUEUED}', lease_owner = NULL, "
                    "lease_expires_at = NULL, attempts = attempts - 1 "
                    f"WHERE id = :id AND lease_owner = :owner AND status = '{_RUNNING}'"
                ),
                {"id": sync_id, "owner": owner},
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, sync_id: str, owner: str) -> bool:
        """Extend the lease; False when it was lost."""
        with self.db.session() as session:
            return self._extend(session, sync_id, owner)

    def keep_alive(self, sync_id: str, owner: str, stop: threading.Event) -> None:
        """Renew the lease every third of its length until `stop` is set or it is lost."""
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                if not self.renew(sync_id, owner):
                    return
            except Exception:  # a transient database error must not end the renewals
                log.warning("lease renewal failed for %s", sync_id, exc_info=True)

    def fence(self, session: Session, sync_id: str, owner: str) -> None:
        """Inside a transaction: extend the lease or raise `LeaseLost` (rolls back the caller)."""
        if not self._extend(session, sync_id, owner):
            raise LeaseLost(sync_id)

    def _extend(self, session: Session, sync_id: str, owner: str) -> bool:
        result = session.execute(
            text(
                "UPDATE source_syncs SET lease_expires_at = :expires "
                f"WHERE id = :id AND lease_owner = :owner AND status = '{_RUNNING}'"
            ),
            {"expires": _naive(utcnow()) + self.lease, "id": sync_id, "owner": owner},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _naive(moment):  # type: ignore[no-untyped-def]
    """Timestamps are stored as naive UTC (see `UTCDateTime`); raw SQL must match."""
    return moment.replace(tzinfo=None)
