"""Webhook endpoints and their deliveries: create, list, delete, rotate, retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.pagination import Page, paginate
from kb_service.db.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from kb_service.errors import Conflict, InvalidInput, NotFound
from kb_service.statuses import DeliveryStatus
from kb_service.webhooks.signing import new_secret
from kb_service.webhooks.urls import check_url

EVENT_TYPES = (
    "kb.ingest.completed",
    "kb.ingest.failed",
    "document.deleted",
    "kb.deleted",
    "meeting.indexed",
    "source.synced",
    "task.completed",
    "task.failed",
    "invitation.created",
)
# After a rotation the old secret keeps signing alongside the new one for this long.
ROTATION_OVERLAP = timedelta(hours=24)


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - {*EVENT_TYPES, "*"})
    if unknown or not event_types:
        message = (
            f"Unknown event types {', '.join(unknown)}; subscribe to any of "
            f"{', '.join(EVENT_TYPES)} or '*'."
            if unknown
            else "Subscribe to at least one event type, or '*'."
        )
        raise InvalidInput(
            message, errors=[{"field": "event_types", "message": message, "type": "value_error"}]
        )
    return sorted(set(event_types))


@dataclass(frozen=True)
class DeliveryWithAttempts:
    """A delivery of an event to an endpoint, with its attempts in order."""

    delivery: WebhookDelivery
    attempts: list[DeliveryAttempt] = field(default_factory=list)


def create_webhook(
    db: Database,
    *,
    organization_id: str,
    url: str,
    event_types: list[str],
    description: str | None = None,
    allow_private: bool = False,
) -> Webhook:
    """A new endpoint with a fresh `whsec_` secret (the caller shows it once)."""
    check_url(url, allow_private=allow_private)
    hook = Webhook(
        organization_id=organization_id,
        url=url,
        description=description,
        event_types=_check_event_types(event_types),
        secret=new_secret(),
        created_at=utcnow(),
    )
    with db.session() as session:
        session.add(hook)
        session.flush()
    return hook


def list_webhooks(
    db: Database, *, organization_id: str, limit: int, cursor: str | None
) -> Page[Webhook]:
    """The organization's endpoints, oldest first."""
    with db.session() as session:
        return paginate(
            session,
            select(Webhook).where(Webhook.organization_id == organization_id),
            created_at=Webhook.created_at,
            row_id=Webhook.id,
            limit=limit,
            cursor=cursor,
        )


def _load_webhook(session: Session, *, organization_id: str, webhook_id: str) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.organization_id != organization_id:
        raise NotFound.of("webhook", webhook_id)
    return hook


def delete_webhook(db: Database, *, organization_id: str, webhook_id: str) -> None:
    """Delete the endpoint with its deliveries; nothing more is sent to it."""
    with db.session() as session:
        session.delete(
            _load_webhook(session, organization_id=organization_id, webhook_id=webhook_id)
        )


def rotate_secret(db: Database, *, organization_id: str, webhook_id: str) -> Webhook:
    """A new secret; the current one keeps signing alongside it for 24 h."""
    with db.session() as session:
        hook = _load_webhook(session, organization_id=organization_id, webhook_id=webhook_id)
        hook.previous_secret = hook.secret
        hook.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
        hook.secret = new_secret()
    return hook


def _with_attempts(
    session: Session, deliveries: Sequence[WebhookDelivery]
) -> list[DeliveryWithAttempts]:
    found: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if found:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(list(found)))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        ):
            found[attempt.delivery_id].append(attempt)
    return [DeliveryWithAttempts(d, found[d.id]) for d in deliveries]


def list_deliveries(
    db: Database,
    *,
    organization_id: str,
    webhook_id: str,
    status: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryWithAttempts]:
    """An endpoint's deliveries (all, or those in `status`), newest first."""
    with db.session() as session:
        _load_webhook(session, organization_id=organization_id, webhook_id=webhook_id)
        statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if status:
            statement = statement.where(WebhookDelivery.status == status)
        page = paginate(
            session,
            statement,
            created_at=WebhookDelivery.created_at,
            row_id=WebhookDelivery.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        return Page(_with_attempts(session, page.items), page.next_cursor)


def retry_delivery(
    db: Database, *, organization_id: str, webhook_id: str, delivery_id: str
) -> DeliveryWithAttempts:
    """Attempt the delivery again now (a dead-lettered one gets one more attempt)."""
    with db.session() as session:
        hook = _load_webhook(session, organization_id=organization_id, webhook_id=webhook_id)
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.webhook_id != webhook_id:
            raise NotFound.of("delivery", delivery_id)
        if hook.disabled_at is not None:
            raise Conflict(f"The webhook is disabled ({hook.disabled_reason}); create a new one.")
        if delivery.status == DeliveryStatus.DELIVERING:
            raise Conflict("The delivery is being attempted right now.")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = utcnow()
        wake_after_commit(session, Wake.WEBHOOKS)
        session.flush()
        return _with_attempts(session, [delivery])[0]
