"""Webhooks end to end: real ingestion events, a real loopback receiver, real signatures."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from kb_service.db.base import utcnow
from kb_service.db.webhooks import WebhookDelivery
from kb_service.runtime import Runtime
from kb_service.webhooks.urls import UnsafeWebhookUrl, check_url
from kb_service.workers.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import wait_for_job
from tests.kb_service.live_servers import Received, wait_until, webhook_receiver
from tests.kb_service.webhook_support import FakeClock, deliveries, emit, make_hook

API = "/api/v1"


def test_ingest_completed_is_delivered_and_verifies_with_standardwebhooks(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    # Committing an event (a finished job, an API call) wakes the dispatcher: with a
    # 120 s poll, every delivery below would otherwise time out.
    runtime.settings = runtime.settings.replace(webhook_poll_seconds=120.0)
    runtime.start_webhook_dispatcher()
    with webhook_receiver() as receiver:
        hook = make_hook(client, headers, receiver.url, ["kb.ingest.completed"])
        assert hook["secret"].startswith("whsec_") and hook["status"] == "active"
        listed = client.get(f"{API}/webhooks", headers=headers).json()["data"]
        assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None
        kb = client.post(f"{API}/knowledge-bases", json={"name": "Ops"}, headers=headers).json()[
            "data"
        ]
        job = client.post(
            f"{API}/knowledge-bases/{kb['id']}/ingest",
            json={"documents": [{"text": "Backups run nightly at 02:00 UTC.", "title": "Backups"}]},
            headers=headers,
        ).json()["data"]
        wait_for_job(client, job["id"], headers)
        wait_until(lambda: len(receiver.received) == 1, what="the delivery")
        received = receiver.received[0]
        payload = StandardWebhook(hook["secret"]).verify(received.body, received.headers)
        assert (
            payload["type"] == "kb.ingest.completed"
            and payload["id"] == received.headers["webhook-id"]
        )
        assert payload["organization_id"] == admin["organization_id"]
        assert payload["data"]["job_id"] == job["id"] and payload["data"]["status"] == "completed"
        with pytest.raises(WebhookVerificationError):
            StandardWebhook("whsec_" + "A" * 32).verify(received.body, received.headers)
        # Deleting the knowledge base emits kb.deleted: the first endpoint did not subscribe
        # to it, a second one did.
        other = make_hook(client, headers, receiver.url, ["kb.deleted"])
        client.delete(f"{API}/knowledge-bases/{kb['id']}", headers=headers)
        wait_until(lambda: len(receiver.received) == 2, what="the kb.deleted delivery")
        deleted = receiver.received[1]
        assert StandardWebhook(other["secret"]).verify(deleted.body, deleted.headers)["type"] == (
            "kb.deleted"
        )
        time.sleep(0.5)
        assert len(receiver.received) == 2
    [delivery] = deliveries(client, headers, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["event_id"] == payload["id"]
    assert (
        delivery["attempts"][0]["status_code"] == 200 and delivery["attempts"][0]["latency_ms"] >= 0
    )


def test_loopback_receiver_that_fails_then_recovers(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    clock = FakeClock()
    answers = iter([500, 503])

    def respond(_r: Received) -> int:
        return next(answers, 200)

    with webhook_receiver(respond) as receiver:
        hook = make_hook(client, admin["headers"], receiver.url)
        event_id = emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(
            runtime.db, allow_private=True, clock=clock, rng=random.Random(1)
        )
        try:
            for expected in ("pending", "pending", "succeeded"):
                assert dispatcher.run_once() == 1
                with runtime.db.session() as session:
                    delivery = session.scalars(select(WebhookDelivery)).one()
                assert delivery.status == expected
                if expected == "pending":
                    assert delivery.next_attempt_at is not None
                    assert delivery.next_attempt_at - clock.now <= timedelta(minutes=2)
                    assert dispatcher.run_once() == 0  # not due yet
                    clock.advance_to(delivery.next_attempt_at)
        finally:
            dispatcher.stop()
        # one stable webhook-id across retries; each attempt verifies on its own
        assert receiver.ids() == [event_id] * 3
        for received in receiver.received:
            StandardWebhook(hook["secret"]).verify(received.body, received.headers)
    [delivery] = deliveries(client, admin["headers"], hook["id"])
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 503", None]
    assert delivery["attempt_count"] == 3 and delivery["delivered_at"] is not None


def test_410_gone_disables_the_endpoint(client: TestClient, admin: dict, runtime: Runtime) -> None:
    with webhook_receiver(lambda _r: 410) as receiver:
        hook = make_hook(client, admin["headers"], receiver.url)
        emit(runtime, admin["organization_id"])
        emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(runtime.db, allow_private=True, concurrency=1)
        try:
            dispatcher.run_once()
            dispatcher.run_once()
            emit(runtime, admin["organization_id"])
            dispatcher.run_once()
        finally:
            dispatcher.stop()
        assert len(receiver.received) == 1
    [listed] = client.get(f"{API}/webhooks", headers=admin["headers"]).json()["data"]
    assert listed["status"] == "disabled" and "410" in listed["disabled_reason"]
    dead = deliveries(client, admin["headers"], hook["id"], status="dead")
    assert len(dead) == 2  # the third event came after disabling: no delivery at all
    retry = client.post(
        f"{API}/webhooks/{hook['id']}/deliveries/{dead[0]['id']}/retry", headers=admin["headers"]
    )
    assert retry.status_code == 409 and retry.json()["meta"]["code"] == "conflict"


def test_rotated_secret_signs_alongside_the_old_one_for_24_hours(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    clock = FakeClock()
    with webhook_receiver() as receiver:
        hook = make_hook(client, admin["headers"], receiver.url)
        rotated = client.post(
            f"{API}/webhooks/{hook['id']}/rotate-secret", headers=admin["headers"]
        )
        assert rotated.status_code == 200
        new_secret = rotated.json()["data"]["secret"]
        assert new_secret.startswith("whsec_") and new_secret != hook["secret"]
        emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(runtime.db, allow_private=True, clock=clock)
        try:
            dispatcher.run_once()
            clock.advance_to(clock.now + timedelta(hours=24, seconds=1))
            emit(runtime, admin["organization_id"])
            dispatcher.run_once()
        finally:
            dispatcher.stop()
    during, after = receiver.received
    signatures = during.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    StandardWebhook(hook["secret"]).verify(during.body, during.headers)
    StandardWebhook(new_secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1


def test_private_addresses_are_refused_unless_allowed(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    for url in (
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://localhost/x",
    ):
        with pytest.raises(UnsafeWebhookUrl):
            check_url(url, allow_private=False)
        check_url(url, allow_private=True)
    for url in ("ftp://example.com/x", "not a url", "http:///nohost"):
        with pytest.raises(UnsafeWebhookUrl):
            check_url(url, allow_private=True)
    bad = client.post(
        f"{API}/webhooks", json={"url": "ftp://example.com"}, headers=admin["headers"]
    )
    assert bad.status_code == 422 and bad.json()["meta"]["errors"][0]["field"] == "url"
    unknown = client.post(
        f"{API}/webhooks",
        json={"url": "https://example.com", "event_types": ["nope"]},
        headers=admin["headers"],
    )
    assert unknown.status_code == 422

    # re-checked at delivery time: an endpoint accepted earlier is not contacted now
    with webhook_receiver() as receiver:
        hook = make_hook(client, admin["headers"], receiver.url)
        emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(runtime.db, allow_private=False)
        try:
            dispatcher.run_once()
        finally:
            dispatcher.stop()
        assert receiver.received == []
    [delivery] = deliveries(client, admin["headers"], hook["id"])
    assert delivery["status"] == "pending" and delivery["attempts"][0]["error"].startswith(
        "refused"
    )


def test_a_hanging_receiver_does_not_stall_other_deliveries(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    release = threading.Event()

    def hang(_r: Received) -> int:
        release.wait(10)
        return 200

    with webhook_receiver(hang) as slow, webhook_receiver() as fast:
        slow_hook = make_hook(client, admin["headers"], slow.url)
        started = time.monotonic()
        dispatcher = WebhookDispatcher(
            runtime.db, allow_private=True, timeout=2, concurrency=4, poll_seconds=0.05
        )
        dispatcher.start()
        try:
            emit(runtime, admin["organization_id"])
            wait_until(lambda: len(slow.received) == 1, what="the hanging attempt")
            make_hook(client, admin["headers"], fast.url)
            for _ in range(3):
                emit(runtime, admin["organization_id"])
            wait_until(lambda: len(fast.received) == 3, timeout=1.5, what="fast deliveries")
            assert time.monotonic() - started < 2  # all while the slow receiver still hangs
            wait_until(
                lambda: deliveries(client, admin["headers"], slow_hook["id"])[-1]["attempts"] != [],
                what="the timed-out attempt to be recorded",
            )
        finally:
            release.set()
            dispatcher.stop()
    oldest = deliveries(client, admin["headers"], slow_hook["id"])[-1]
    assert oldest["attempts"][0]["error"] == "timeout" and oldest["status"] == "pending"


def test_dead_letter_can_be_retried_and_webhook_deleted(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    clock = FakeClock()
    healthy = threading.Event()
    with webhook_receiver(lambda _r: 200 if healthy.is_set() else 500) as receiver:
        hook = make_hook(client, admin["headers"], receiver.url)
        emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(runtime.db, allow_private=True, clock=clock)
        try:
            dispatcher.run_once()
            clock.advance_to(clock.now + timedelta(hours=25))
            dispatcher.run_once()
            [dead] = deliveries(client, admin["headers"], hook["id"], status="dead")
            healthy.set()
            retry = client.post(
                f"{API}/webhooks/{hook['id']}/deliveries/{dead['id']}/retry",
                headers=admin["headers"],
            )
            assert retry.status_code == 202 and retry.json()["data"]["status"] == "pending"
            clock.now = utcnow()
            dispatcher.run_once()
        finally:
            dispatcher.stop()
        assert len(receiver.received) == 3
    [done] = deliveries(client, admin["headers"], hook["id"])
    assert done["status"] == "succeeded" and [a["status_code"] for a in done["attempts"]] == [
        500,
        500,
        200,
    ]
    assert (
        client.delete(f"{API}/webhooks/{hook['id']}", headers=admin["headers"]).status_code == 200
    )
    gone = client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=admin["headers"])
    assert gone.status_code == 404 and gone.json()["meta"]["code"] == "not_found"
