"""`verify_webhook` on real deliveries, captured by a loopback receiver, before and after rotation.

The dispatcher of the served app signs and delivers `kb.ingest.completed`; the
receiver keeps the raw bytes and headers. A genuine delivery verifies (and agrees
with the `standardwebhooks` package); a tampered body, a wrong secret, a stale
timestamp or a missing header do not. After `rotate-secret` a delivery carries two
signatures and verifies with either secret.
"""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from kb_service.client import Client, WebhookVerificationError, verify_webhook
from kb_service.webhooks.signing import new_secret
from tests.kb_service.client.client_support import Served
from tests.kb_service.live_servers import Received, wait_until, webhook_receiver


def ingest_and_receive(kb: Client, kb_id: str, received: list[Received], text: str) -> Received:
    count = len(received)
    job = kb.ingest(kb_id, documents=[{"text": text, "title": text[:20]}])
    assert kb.wait_for_job(job.id, timeout=60, poll=0.05).status == "completed"
    wait_until(lambda: len(received) > count, timeout=30, what="the webhook delivery")
    delivery = received[count]
    assert json.loads(delivery.body)["data"]["job_id"] == job.id
    return delivery


def test_real_deliveries_verify_and_tampering_does_not(served: Served) -> None:
    with webhook_receiver() as receiver, Client(served.url, api_key=served.acme["key"]) as kb:
        hook = kb.create_webhook(url=receiver.url, event_types=["kb.ingest.completed"])
        assert hook.secret and hook.secret.startswith("whsec_")
        base = kb.create_knowledge_base(name="Hooked")
        first = ingest_and_receive(
            kb, base.id, receiver.received, "VPN profiles expire in 90 days."
        )

        event = verify_webhook(first.body, first.headers, hook.secret)
        assert event["type"] == "kb.ingest.completed" and event["id"] == first.headers["webhook-id"]
        assert event["organization_id"] == served.acme["organization_id"]
        assert Webhook(hook.secret).verify(first.body, first.headers) == event

        tampered = first.body.replace(b'"completed"', b'"failed"')
        assert tampered != first.body
        with pytest.raises(WebhookVerificationError, match="signature"):
            verify_webhook(tampered, first.headers, hook.secret)
        with pytest.raises(WebhookVerificationError, match="signature"):
            verify_webhook(first.body, first.headers, new_secret())
        stamp = int(first.headers["webhook-timestamp"])
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify_webhook(first.body, first.headers, hook.secret, now=stamp + 301)
        assert verify_webhook(first.body, first.headers, hook.secret, now=stamp + 299) == event
        partial = {k: v for k, v in first.headers.items() if k != "webhook-timestamp"}
        with pytest.raises(WebhookVerificationError, match="webhook-timestamp"):
            verify_webhook(first.body, partial, hook.secret)

        rotated = kb.rotate_webhook_secret(hook.id)
        assert rotated.secret and rotated.secret != hook.secret
        assert rotated.previous_secret_expires_at is not None
        second = ingest_and_receive(kb, base.id, receiver.received, "Badges are renewed yearly.")
        assert len(second.headers["webhook-signature"].split()) == 2
        for secret in (hook.secret, rotated.secret, [new_secret(), rotated.secret]):
            assert verify_webhook(second.body, second.headers, secret)["type"] == event["type"]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(second.body, second.headers, [new_secret(), new_secret()])

        deliveries = list(kb.list_deliveries.iterate(hook.id, status="succeeded"))
        assert {d.event_id for d in deliveries} == {
            first.headers["webhook-id"],
            second.headers["webhook-id"],
        }
        again = kb.retry_delivery(hook.id, deliveries[-1].id)
        assert again.status == "pending"
        wait_until(lambda: len(receiver.received) > 2, timeout=30, what="the retried delivery")
        third = receiver.received[2]
        assert third.headers["webhook-id"] == deliveries[-1].event_id
        assert (
            verify_webhook(third.body, third.headers, rotated.secret)["id"]
            == third.headers["webhook-id"]
        )
