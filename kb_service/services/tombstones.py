"""Vectors of deleted documents and knowledge bases that are still to leave the index.

SQL is deleted first, then the vectors, and the two cannot share a transaction. So
the SQL delete writes a `VectorTombstone` in its own transaction (`bury`), and the
tombstone is deleted only after the vector delete succeeded (`remove_vectors`). When
that delete fails, or the process dies before it, the tombstone stays and
`purge_tombstones` (run by every `Runtime.build`, so at each start of `serve` or
`worker`) deletes the vectors then. Migration 0002 writes tombstones too, for the
duplicate documents it merges. Meanwhile searches never show such vectors:
liveness admits only committed chunks of live documents.

| scope | the vectors it stands for |
|---|---|
| `document` | `document_id` = target |
| `knowledge_base` | `knowledge_base_id` = target |
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb_service.db.content import TombstoneScope, VectorTombstone
from kb_service.db.database import Database
from retrieval.index import PointFilter, VectorIndex

log = logging.getLogger(__name__)


def bury(session: Session, scope: TombstoneScope, target_id: str) -> None:
    """Inside the SQL delete's transaction: record that `target_id`'s vectors must go."""
    session.add(VectorTombstone(target_id=target_id, scope=scope))


def remove_vectors(db: Database, index: VectorIndex, scope: TombstoneScope, target_id: str) -> bool:
    """Delete the tombstoned vectors, then the tombstone; False (logged) if the index failed.

    A failure is not the caller's: SQL is already deleted and the tombstone keeps the
    rest for the next start.
    """
    where = _FILTERS[scope](target_id)
    try:
        index.delete(where)
    except Exception:  # whatever the backend raises; the tombstone stays
        log.warning(
            "could not delete the vectors of %s %s; its tombstone stays for the next start",
            scope,
            target_id,
            exc_info=True,
        )
        return False
    with db.session() as session:
        session.execute(delete(VectorTombstone).where(VectorTombstone.target_id == target_id))
    return True


def purge_tombstones(db: Database, index: VectorIndex) -> int:
    """Remove the vectors of every tombstone; returns how many were removed."""
    with db.session() as session:
        rows = session.execute(select(VectorTombstone.scope, VectorTombstone.target_id)).all()
    return sum(remove_vectors(db, index, scope, target) for scope, target in rows)


_FILTERS = {
    TombstoneScope.DOCUMENT: lambda target: PointFilter.where(document_id=target),
    TombstoneScope.KNOWLEDGE_BASE: lambda target: PointFilter.where(knowledge_base_id=target),
}
