"""Points of superseded document versions: which they are, and sweeping them after a crash."""

from __future__ import annotations

from sqlalchemy import select

from kb_service.db.content import Document
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem
from kb_service.statuses import ItemStatus
from retrieval.index import FieldMatch, FieldRange, PointFilter, VectorIndex


def older_versions(document_id: str, version: int) -> PointFilter:
    """The document's points of versions below `version`."""
    return PointFilter(
        must=(FieldMatch("document_id", (document_id,)), FieldRange("version", lte=version - 1))
    )


def sweep_stale_versions(db: Database, index: VectorIndex, job_id: str) -> None:
    """After a crash between commit and cleanup, drop the superseded versions' points."""
    with db.session() as session:
        rows = session.execute(
            select(Document.id, Document.version)
            .join(IngestItem, IngestItem.document_id == Document.id)
            .where(IngestItem.job_id == job_id, IngestItem.status == ItemStatus.INDEXED)
        ).all()
    for document_id, version in rows:
        index.delete(older_versions(document_id, version))
