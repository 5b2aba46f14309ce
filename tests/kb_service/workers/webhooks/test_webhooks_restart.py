"""A `kb-service worker` SIGKILLed while deliveries are pending: after a restart all arrive.

Real subprocesses, real SQLite or PostgreSQL, a real receiver on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.webhooks import WebhookDelivery
from kb_service.services import webhooks
from kb_service.services.keys import get_or_create_organization
from tests.conftest import postgres_url_or_skip
from tests.kb_service.live_servers import Received, wait_until, webhook_receiver

EVENTS = 30


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kb_service.cli", "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_dispatcher_resumes_pending_deliveries_without_loss(
    backend: str, tmp_path: Path
) -> None:
    url = (
        postgres_url_or_skip()
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    )
    db = Database(url.replace("postgresql://", "postgresql+psycopg://"))
    db.migrate()
    healthy = threading.Event()

    def respond(_r: Received) -> int:
        # Until the first worker is killed the receiver hangs (attempts stay in flight).
        return 200 if healthy.wait(20) else 500

    with webhook_receiver(respond) as receiver:
        org = get_or_create_organization(db, name="acme")
        hook = webhooks.create_webhook(
            db, organization_id=org.id, url=receiver.url, event_types=["*"], allow_private=True
        )
        with db.session() as session:
            events = [
                record_event(session, organization_id=org.id, type="kb.deleted", data={"n": n})
                for n in range(EVENTS)
            ]
            session.flush()
            event_ids = {e.id for e in events}
        env = {
            **os.environ,
            "KB_DATA_DIR": str(tmp_path / "data"),
            "KB_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
            "KB_WEBHOOK_ALLOW_PRIVATE": "true",
            "KB_WEBHOOK_TIMEOUT_SECONDS": "2",
            "KB_WEBHOOK_CONCURRENCY": "4",
            "KB_IN_PROCESS_WORKERS": "1",
            "HF_HUB_OFFLINE": "1",
        }
        first = _worker(env)
        try:
            wait_until(lambda: len(receiver.received) >= 4, timeout=90, what="attempts in flight")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        with db.session() as session:
            statuses = dict(
                session.execute(
                    select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
                ).all()
            )
        assert statuses.get("succeeded", 0) < EVENTS  # the kill left work behind
        healthy.set()

        second = _worker(env)
        try:

            def all_delivered() -> bool:
                with db.session() as session:
                    done = session.scalar(
                        select(func.count())
                        .select_from(WebhookDelivery)
                        .where(WebhookDelivery.status == "succeeded")
                    )
                return done == EVENTS

            wait_until(all_delivered, timeout=120, what="every delivery to succeed")
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(30)
            except subprocess.TimeoutExpired:
                second.kill()
        with db.session() as session:
            rows = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
            ).all()
        assert {r.event_id for r in rows} == event_ids and len(rows) == EVENTS
        # at-least-once: every event reached the receiver, under its stable webhook-id
        assert set(receiver.ids()) >= event_ids
    db.dispose()
