"""The whole retry schedule of a receiver that never recovers, on an injected clock."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kb_service.db.webhooks import DeliveryAttempt, WebhookDelivery
from kb_service.runtime import Runtime
from kb_service.workers.webhooks.dispatcher import WebhookDispatcher
from kb_service.workers.webhooks.schedule import FIRST_RETRY, MAX_DELAY, RETRY_WINDOW
from tests.kb_service.live_servers import webhook_receiver
from tests.kb_service.webhook_support import FakeClock, emit, make_hook


def test_backoff_with_jitter_for_24_hours_then_dead_letter(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    clock = FakeClock()
    start = clock.now
    with webhook_receiver(lambda _r: 503) as receiver:
        make_hook(client, admin["headers"], receiver.url)
        event_id = emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(
            runtime.db, allow_private=True, clock=clock, rng=random.Random(42)
        )
        attempt_times = []
        try:
            for _ in range(100):
                if dispatcher.run_once() == 0:
                    break
                attempt_times.append(clock.now)
                with runtime.db.session() as session:
                    delivery = session.scalars(select(WebhookDelivery)).one()
                if delivery.status == "dead":
                    break
                assert delivery.status == "pending" and delivery.next_attempt_at is not None
                clock.advance_to(delivery.next_attempt_at)
        finally:
            dispatcher.stop()
        assert set(receiver.ids()) == {event_id}
    assert delivery.status == "dead" and delivery.next_attempt_at is None
    gaps = [b - a for a, b in itertools.pairwise(attempt_times)]
    assert timedelta(0) < gaps[0] <= timedelta(seconds=60)  # first retry within a minute
    for n, gap in enumerate(gaps[:-1], start=1):
        nominal = min(FIRST_RETRY * 2 ** (n - 1), MAX_DELAY)
        assert nominal / 2 <= gap <= nominal  # exponential, with jitter
    assert (
        len({round(g / min(FIRST_RETRY * 2**n, MAX_DELAY), 3) for n, g in enumerate(gaps[:-1])}) > 3
    )
    # retries continue to the end of the 24 h window, then stop
    assert attempt_times[-1] - start == RETRY_WINDOW
    assert RETRY_WINDOW - (attempt_times[-2] - start) <= MAX_DELAY
    with runtime.db.session() as session:
        attempts = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.number)).all()
    assert [a.number for a in attempts] == list(range(1, len(attempt_times) + 1))
    assert all(
        a.status_code == 503 and a.error == "HTTP 503" and a.latency_ms >= 0 for a in attempts
    )
    assert 10 <= len(attempts) <= 20
