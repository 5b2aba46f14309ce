"""Vectors of deleted documents that are still to be removed from the index.

The vector index is not transactional with SQL. A `VectorTombstone` row, written in
the transaction that deletes a document's rows, outlives a crash before the vectors
are gone; `purge_tombstones` removes what is left, at start-up. Searches never show
such vectors meanwhile: liveness admits only committed chunks of live documents.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from kb_service.db.content import VectorTombstone
from kb_service.db.database import Database
from retrieval.index import PointFilter, VectorIndex


def purge_tombstones(db: Database, index: VectorIndex) -> int:
    """Delete the vectors of every tombstoned document, then its tombstone."""
    with db.session() as session:
        document_ids = list(session.scalars(select(VectorTombstone.document_id)))
    for document_id in document_ids:
        index.delete(PointFilter.where(document_id=document_id))
        with db.session() as session:
            session.execute(
                delete(VectorTombstone).where(VectorTombstone.document_id == document_id)
            )
    return len(document_ids)
