"""What the health endpoints report: readiness of the engines, and the `/metrics` text."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.jobs import IngestJob
from kb_service.db.webhooks import WebhookDelivery
from kb_service.observability.store import StoreGauges, exposition
from kb_service.statuses import DeliveryStatus, JobStatus
from retrieval.index import PointFilter, VectorIndex


def is_ready(db: Database, index: VectorIndex) -> bool:
    """Whether the metadata database and the vector index both answer."""
    try:
        db.ping()
        index.count(PointFilter.where(organization_id="__readyz__"))
    except Exception:  # any failure of either engine means "not ready", never a 500
        return False
    return True


def store_gauges(db: Database) -> StoreGauges:
    """Queue and outbox gauges; each query is answered from an index on `status`."""
    open_deliveries = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING, DeliveryStatus.DEAD)
    with db.session() as session:
        jobs = session.execute(
            select(IngestJob.status, func.count()).group_by(IngestJob.status)
        ).all()
        oldest = session.scalar(
            select(func.min(IngestJob.created_at)).where(IngestJob.status == JobStatus.QUEUED)
        )
        deliveries = dict(
            session.execute(
                select(WebhookDelivery.status, func.count())
                .where(WebhookDelivery.status.in_(open_deliveries))
                .group_by(WebhookDelivery.status)
            )
            .tuples()
            .all()
        )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite returns naive UTC
    return StoreGauges(
        jobs_by_status={str(status): int(count) for status, count in jobs},
        oldest_queued_at=oldest,
        deliveries_pending=int(
            deliveries.get(DeliveryStatus.PENDING, 0) + deliveries.get(DeliveryStatus.DELIVERING, 0)
        ),
        deliveries_dead=int(deliveries.get(DeliveryStatus.DEAD, 0)),
        now=utcnow(),
    )


def metrics_text(db: Database) -> bytes:
    """The Prometheus text of this process's metrics and the database's gauges."""
    return exposition(store_gauges(db))
