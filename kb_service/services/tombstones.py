"""Vectors of deleted documents that are still to be removed from the index.

A `VectorTombstone` row names a document whose SQL rows were deleted where the vector
index could not be reached (migration 0002's merge of duplicate documents);
`purge_tombstones` removes those vectors at start-up. Searches never show them
meanwhile: liveness admits only committed chunks of live documents.
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
