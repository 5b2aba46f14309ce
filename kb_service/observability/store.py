"""Gauges read from the metadata database at scrape time, and the `/metrics` exposition.

The queue and the webhook outbox live in SQL, shared by every process, so their
gauges are read when Prometheus scrapes the API (a few indexed queries, see
`services.health.store_gauges`) instead of being kept by whichever process changed
them. `exposition` renders them after this process's own metrics
(`kb_service.observability.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class StoreGauges:
    """What the metadata database says at one moment."""

    jobs_by_status: dict[str, int]
    oldest_queued_at: datetime | None
    deliveries_pending: int  # pending or being delivered
    deliveries_dead: int
    now: datetime


class StoreCollector(Collector):
    """Yields `StoreGauges` as Prometheus gauge families."""

    def __init__(self, gauges: StoreGauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        g = self.gauges
        jobs = GaugeMetricFamily("kb_ingest_jobs", "Ingest jobs by status.", labels=["status"])
        for status, count in g.jobs_by_status.items():
            jobs.add_metric([status], count)
        yield jobs
        yield GaugeMetricFamily(
            "kb_ingest_queue_depth",
            "Ingest jobs waiting for a worker.",
            value=g.jobs_by_status.get("queued", 0),
        )
        age = (g.now - g.oldest_queued_at).total_seconds() if g.oldest_queued_at else 0.0
        yield GaugeMetricFamily(
            "kb_ingest_queue_oldest_age_seconds",
            "Seconds since the oldest queued ingest job was submitted (0: none queued).",
            value=max(0.0, age),
        )
        yield GaugeMetricFamily(
            "kb_webhook_deliveries_pending",
            "Webhook deliveries waiting for an attempt or being attempted.",
            value=g.deliveries_pending,
        )
        yield GaugeMetricFamily(
            "kb_webhook_deliveries_dead",
            "Webhook deliveries dead-lettered (listed, retryable).",
            value=g.deliveries_dead,
        )


def exposition(gauges: StoreGauges) -> bytes:
    """This process's metrics, then the database's gauges, in the Prometheus text format."""
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(gauges))
    return generate_latest(REGISTRY) + generate_latest(store)
