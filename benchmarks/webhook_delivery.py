"""Webhook delivery: throughput to a fast local receiver, and event-to-delivery latency.

1. Throughput: `--events` outbox events for one endpoint, then the dispatcher (default
   settings: 16 sender threads) delivers them to a receiver on loopback that answers
   200 at once; deliveries/s = events / time until the last one is marked succeeded.
2. Latency: `--jobs` real ingest jobs (one short text each, the real pipeline and
   model) run one after another while the dispatcher is running; for each, the delay
   from the `kb.ingest.completed` row's `created_at` to the receiver getting the POST.

    .venv/bin/python -m benchmarks.webhook_delivery [--events 2000] [--jobs 40]
        [--database-url postgresql://postgres@127.0.0.1:5432/DB]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kb_service.db.events import Event, record_event
from kb_service.db.webhooks import WebhookDelivery
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases, webhooks
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings

received: dict[str, float] = {}
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with lock:
            received.setdefault(self.headers["webhook-id"], time.time())
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def succeeded(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "succeeded")
            )
            or 0
        )


def percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            data_dir=Path(tmp), database_url=args.database_url, webhook_allow_private=True
        )
        runtime = Runtime.build(settings)
        org = get_or_create_organization(runtime.db, name="bench")
        webhooks.create_webhook(
            runtime.db, organization_id=org.id, url=url, event_types=["*"], allow_private=True
        )
        with runtime.db.session() as session:
            for n in range(args.events):
                record_event(session, organization_id=org.id, type="kb.deleted", data={"n": n})
        started = time.perf_counter()
        runtime.start_webhook_dispatcher()
        while succeeded(runtime) < args.events:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        throughput = args.events / elapsed

        runtime.start_workers(1)
        runtime.pipeline.warm_up()
        kb = knowledge_bases.create_knowledge_base(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="bench"
        ).knowledge_base
        delays: list[float] = []
        for n in range(args.jobs):
            job_id = ingestion.submit_ingest(
                runtime.db,
                organization_id=org.id,
                kb_id=kb.id,
                records=[ingestion.TextRecord(text=f"Fact {n}: the backup window is {n} minutes.")],
            ).job.id
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with runtime.db.session() as session:
                    event = session.scalars(
                        select(Event).where(
                            Event.type == "kb.ingest.completed",
                            Event.data["job_id"].as_string() == job_id,
                        )
                    ).first()
                    created: datetime | None = event.created_at if event else None
                    event_id = event.id if event else None
                if event_id and event_id in received:
                    assert created is not None
                    delays.append((received[event_id] - created.timestamp()) * 1000)
                    break
                time.sleep(0.005)
        runtime.close()
    server.shutdown()
    print(
        json.dumps(
            {
                "database": "postgresql" if args.database_url else "sqlite",
                "deliveries": args.events,
                "deliveries_per_second": round(throughput, 1),
                "ingest_completed_to_delivered_ms": {
                    "jobs": len(delays),
                    "p50": round(percentile(delays, 50), 1),
                    "p95": round(percentile(delays, 95), 1),
                    "max": round(max(delays), 1),
                },
                "poll_seconds": settings.webhooks.poll_seconds,
                "concurrency": settings.webhooks.concurrency,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
