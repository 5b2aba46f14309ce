"""SSRF guard on IPv6 transition forms: every embedded IPv4 address is judged as IPv4.

Only literal addresses are used, so nothing is resolved; the delivery test sends through
an `httpx.MockTransport`, so no packet ever leaves the process.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kb_service.api.app import create_app
from kb_service.db.base import utcnow
from kb_service.db.events import record_event
from kb_service.db.webhooks import WebhookDelivery
from kb_service.runtime import Runtime
from kb_service.services.webhooks import create_webhook
from kb_service.webhooks.urls import UnsafeWebhookUrl, check_url
from kb_service.workers.webhooks.delivery import attempt_delivery
from kb_service.workers.webhooks.outbox import fan_out
from tests.conftest import make_settings, new_key

INTERNAL = {
    "::7f00:1": "IPv4-compatible 127.0.0.1",
    "::a9fe:a9fe": "IPv4-compatible 169.254.169.254",
    "::": "unspecified",
    "::1": "loopback",
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1",
    "::ffff:0:7f00:1": "IPv4-translated 127.0.0.1 (RFC 2765)",
    "::ffff:0:a01:203": "IPv4-translated 10.1.2.3",
    "64:ff9b::7f00:1": "NAT64 of 127.0.0.1",
    "64:ff9b::a9fe:a9fe": "NAT64 of 169.254.169.254",
    "64:ff9b::c0a8:101": "NAT64 of 192.168.1.1",
    "64:ff9b:1::5db8:d822": "local-use NAT64: the IPv4 position is the operator's choice",
    "64:ff9b:1:ffff::1": "local-use NAT64",
    "2002:7f00:1::1": "6to4 of 127.0.0.1",
    "2002:a9fe:a9fe::1": "6to4 of 169.254.169.254",
    "2002:a00:1::1": "6to4 of 10.0.0.1",
    "2001:0:5db8:d822::80ff:fffe": "Teredo, client 127.0.0.1",
    "2001:0:a01:203::a2c9:f7cb": "Teredo, server 10.1.2.3",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo (RFC 4380 example), client 192.0.2.45",
    "2001:0:5db8:d822::a2c9:f7cb": "Teredo, even with a public server and client",
    "fe80::1": "link-local",
    "fec0::1": "site-local (deprecated)",
    "fc00::1": "unique local",
    "ff0e::1": "multicast",
    "2001:db8::1": "documentation",
}
PUBLIC = {
    "2606:2800:220:1::1": "plain global unicast",
    "64:ff9b::5db8:d822": "NAT64 of 93.184.216.34",
    "2002:5db8:d822::1": "6to4 of 93.184.216.34",
    "::ffff:93.184.216.34": "IPv4-mapped 93.184.216.34",
}


@pytest.mark.parametrize("address", INTERNAL)
def test_the_guard_refuses_every_transition_form_of_an_internal_address(address: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        check_url(f"http://[{address}]:8080/hook", allow_private=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_ipv6_addresses_still_pass(address: str) -> None:
    vetted = check_url(f"https://[{address}]/hook", allow_private=False)
    assert len(vetted) == 1


@pytest.fixture
def guarded(tmp_path: Path, embedder) -> Iterator[Runtime]:
    settings = make_settings(tmp_path, webhook_allow_private=False)
    runtime = Runtime.build(settings, embedder=embedder)
    yield runtime
    runtime.close()


def test_registration_refuses_every_internal_form(guarded: Runtime) -> None:
    admin = new_key(guarded)
    with TestClient(create_app(runtime=guarded), raise_server_exceptions=False) as client:
        for address, form in INTERNAL.items():
            response = client.post(
                "/api/v1/webhooks",
                json={"url": f"http://[{address}]:9/hook"},
                headers={"X-API-Key": admin["key"]},
            )
            assert response.status_code == 422, (form, response.text)
            assert response.json()["meta"]["errors"][0]["field"] == "url", form
        public = client.post(
            "/api/v1/webhooks",
            json={"url": "https://[2606:2800:220:1::1]/hook"},
            headers={"X-API-Key": admin["key"]},
        )
        assert public.status_code == 201, public.text


def test_delivery_refuses_an_endpoint_registered_while_private_addresses_were_allowed(
    guarded: Runtime,
) -> None:
    organization_id = new_key(guarded)["organization_id"]
    for address in INTERNAL:
        create_webhook(
            guarded.db,
            organization_id=organization_id,
            url=f"http://[{address}]:9/hook",
            event_types=["*"],
            allow_private=True,
        )
    with guarded.db.session() as session:
        record_event(session, organization_id=organization_id, type="kb.deleted", data={})
    with guarded.db.session() as session:
        fan_out(session, now=utcnow(), is_sqlite=guarded.db.is_sqlite)
        session.execute(
            update(WebhookDelivery).values(
                status="delivering",
                lease_owner="test",
                lease_expires_at=utcnow() + timedelta(minutes=1),
            )
        )
        ids = list(session.scalars(select(WebhookDelivery.id)))
    assert len(ids) == len(INTERNAL)
    sent: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        statuses = [
            attempt_delivery(
                guarded.db,
                delivery_id,
                owner="test",
                client=client,
                clock=utcnow,
                rng=random.Random(1),
                allow_private=False,
            )
            for delivery_id in ids
        ]
    assert sent == [], [str(r.url) for r in sent]
    assert statuses == ["pending"] * len(ids)
    with guarded.db.session() as session:
        errors = session.scalars(select(WebhookDelivery.last_error)).all()
    assert all(error and error.startswith("refused") for error in errors), errors
