"""What the health endpoints report: readiness of the engines, ingest jobs by status."""

from __future__ import annotations

from sqlalchemy import func, select

from kb_service.db.database import Database
from kb_service.db.jobs import IngestJob
from retrieval.index import PointFilter, VectorIndex


def is_ready(db: Database, index: VectorIndex) -> bool:
    """Whether the metadata database and the vector index both answer."""
    try:
        db.ping()
        index.count(PointFilter.where(organization_id="__readyz__"))
    except Exception:  # any failure of either engine means "not ready", never a 500
        return False
    return True


def ingest_job_counts(db: Database) -> dict[str, int]:
    """The number of ingest jobs in each status."""
    with db.session() as session:
        rows = session.execute(
            select(IngestJob.status, func.count()).group_by(IngestJob.status)
        ).all()
    return {str(status): int(count) for status, count in rows}
