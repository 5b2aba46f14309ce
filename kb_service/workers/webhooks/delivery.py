"""One delivery attempt: sign, POST, record the outcome, schedule the next try.

`webhook-id` is the event id, so it is the same on every retry and receivers can
de-duplicate (delivery is at-least-once). The body is the event envelope, serialised
the same way every time. Outcomes: 2xx → succeeded; 410 Gone → the endpoint is
disabled and the delivery dead-lettered; anything else (other status, connection
error, timeout, an address the SSRF guard refuses) → retried on the backoff schedule.
The connection goes to an address the guard vetted (`pin`), not to a second DNS
lookup, so a rebinding host cannot swap in a private address after the check.
Every outcome is written fenced on the dispatcher's lease, so a dispatcher that lost
its lease (it was presumed dead) cannot overwrite the newer owner's result.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import update

from kb_service.db.database import Database
from kb_service.db.events import Event
from kb_service.db.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from kb_service.observability.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_DURATION
from kb_service.statuses import DeliveryStatus
from kb_service.webhooks.signing import signed_headers
from kb_service.webhooks.urls import UnsafeWebhookUrl, check_url
from kb_service.workers.webhooks.schedule import next_attempt

USER_AGENT = "kb-service-webhooks/1"


@dataclass(frozen=True)
class Request:
    """Everything needed to send one attempt, read before the network call."""

    url: str
    msg_id: str
    body: bytes
    secrets: list[str]
    disabled: bool
    attempt: int


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_of(event: Event) -> bytes:
    return json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False).encode()


def _prepare(db: Database, delivery_id: str, now: datetime) -> Request | None:
    with db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return None
        hook = session.get(Webhook, delivery.webhook_id)
        event = session.get(Event, delivery.event_id)
        if hook is None or event is None:
            return None
        secrets = [hook.secret]
        expires = hook.previous_secret_expires_at
        if hook.previous_secret and expires is not None and expires > now:
            secrets.append(hook.previous_secret)
        return Request(
            url=hook.url,
            msg_id=event.id,
            body=body_of(event),
            secrets=secrets,
            disabled=hook.disabled_at is not None,
            attempt=delivery.attempt_count + 1,
        )


@dataclass(frozen=True)
class Pinned:
    """A request aimed at one vetted IP while still addressed to the URL's own host."""

    url: httpx.URL  # the original URL with its host replaced by the IP literal
    host: str  # the Host header: the original host (and port, if not the default)
    sni_hostname: str | None  # https: the name TLS sends and checks the certificate against


def pin(url: str, address: str) -> Pinned:
    """`url` rewritten to connect to `address` (an IP) as if it had resolved there."""
    original = httpx.URL(url)
    return Pinned(
        url=original.copy_with(host=address),
        host=original.netloc.decode("ascii"),
        sni_hostname=original.raw_host.decode("ascii") if original.scheme == "https" else None,
    )


def post(
    client: httpx.Client,
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    addresses: Sequence[str],
) -> int:
    """POST and return the status, connecting only to `addresses` (vetted IPs) if any are given.

    Addresses are tried in order while the connection itself fails (as a resolver's
    list would be); httpx errors propagate. Without addresses httpx resolves the
    host itself, which is only acceptable when private addresses are allowed anyway.
    """
    if not addresses:
        return _post(client, url, content, headers, {})
    for address in addresses[:-1]:
        try:
            return _post_pinned(client, pin(url, address), content, headers)
        except httpx.ConnectError:
            continue
    return _post_pinned(client, pin(url, addresses[-1]), content, headers)


def _post_pinned(
    client: httpx.Client, target: Pinned, content: bytes, headers: dict[str, str]
) -> int:
    headers = {**headers, "host": target.host}
    extensions: dict[str, str] = {}
    if target.sni_hostname is not None:
        extensions["sni_hostname"] = target.sni_hostname
        # The pool keys connections by IP now, so a kept-alive TLS connection verified
        # for one host could otherwise carry a request for another host on that IP.
        headers["connection"] = "close"
    return _post(client, target.url, content, headers, extensions)


def _post(
    client: httpx.Client,
    url: httpx.URL | str,
    content: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> int:
    # Streamed and never read: a receiver's (possibly huge) response body is irrelevant.
    with client.stream(
        "POST", url, content=content, headers=headers, extensions=extensions
    ) as response:
        return response.status_code


def _send(client: httpx.Client, request: Request, now: datetime, *, allow_private: bool) -> Outcome:
    started = time.perf_counter()

    def took() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        addresses = check_url(request.url, allow_private=allow_private)
    except UnsafeWebhookUrl as exc:
        return Outcome(None, f"refused: {exc.message}", took())
    headers = signed_headers(
        request.secrets, msg_id=request.msg_id, timestamp=int(now.timestamp()), body=request.body
    )
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    try:
        status = post(
            client, request.url, content=request.body, headers=headers, addresses=addresses
        )
    except httpx.TimeoutException:
        return Outcome(None, "timeout", took())
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], took())
    return Outcome(status, None if 200 <= status < 300 else f"HTTP {status}", took())


def attempt_delivery(
    db: Database,
    delivery_id: str,
    *,
    owner: str,
    client: httpx.Client,
    clock: Callable[[], datetime],
    rng: random.Random,
    allow_private: bool,
) -> str | None:
    """Make one attempt of a claimed delivery; its new status (None if it vanished)."""
    now = clock()
    request = _prepare(db, delivery_id, now)
    if request is None:
        return None
    if request.disabled:
        outcome = Outcome(None, "the webhook is disabled", 0)
    else:
        outcome = _send(client, request, now, allow_private=allow_private)
    status = _record(db, delivery_id, owner, request, outcome, now, clock(), rng)
    if status is not None:  # committed
        label = _OUTCOME_LABELS.get(status, status)
        WEBHOOK_DELIVERIES.labels(label).inc()
        if not request.disabled:
            WEBHOOK_DELIVERY_DURATION.labels(label).observe(outcome.latency_ms / 1000)
    return status


# What became of the delivery after an attempt, as `kb_webhook_deliveries_total` says it.
_OUTCOME_LABELS: dict[str, str] = {DeliveryStatus.PENDING: "retrying"}


def _record(
    db: Database,
    delivery_id: str,
    owner: str,
    request: Request,
    outcome: Outcome,
    started: datetime,
    finished: datetime,
    rng: random.Random,
) -> str | None:
    with db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=not db.is_sqlite)
        if (
            delivery is None
            or delivery.lease_owner != owner
            or delivery.status != DeliveryStatus.DELIVERING
        ):
            return None  # deleted meanwhile, or our lease was taken over
        values: dict[str, object] = {
            "attempt_count": request.attempt,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if outcome.ok:
            values.update(
                status=DeliveryStatus.SUCCEEDED, delivered_at=finished, next_attempt_at=None
            )
        elif outcome.status_code == 410 or request.disabled:
            values.update(status=DeliveryStatus.DEAD, next_attempt_at=None)
            if outcome.status_code == 410:
                values["last_error"] = "HTTP 410 Gone: the webhook has been disabled"
                session.execute(
                    update(Webhook)
                    .where(Webhook.id == delivery.webhook_id, Webhook.disabled_at.is_(None))
                    .values(disabled_at=finished, disabled_reason="the endpoint answered 410 Gone")
                )
        else:
            when = next_attempt(
                attempt=request.attempt, now=finished, retry_until=delivery.retry_until, rng=rng
            )
            values.update(
                status=DeliveryStatus.PENDING if when else DeliveryStatus.DEAD, next_attempt_at=when
            )
        for name, value in values.items():
            setattr(delivery, name, value)
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                number=request.attempt,
                started_at=started,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
            )
        )
        return str(values["status"])
