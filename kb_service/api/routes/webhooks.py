"""Webhook endpoints, their signing secrets and their deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, Admin, AppSettings, Cursor, Limit
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.webhooks import DeliveryOut, WebhookIn, WebhookOut
from kb_service.services import webhooks as service
from kb_service.statuses import DeliveryStatus

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=StrictJsonRoute)


@router.post("", status_code=201, response_model=Envelope[WebhookOut])
def create_webhook(body: WebhookIn, principal: Admin, db: DB, settings: AppSettings) -> Any:
    """Register an endpoint; its signing secret is shown in this response only."""
    hook = service.create_webhook(
        db,
        organization_id=principal.organization_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        allow_private=settings.webhooks.allow_private,
    )
    return ok(WebhookOut.of(hook, with_secret=True).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[WebhookOut])
def list_webhooks(
    principal: Admin, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """List the organization's webhook endpoints, oldest first."""
    hooks = service.list_webhooks(
        db, organization_id=principal.organization_id, limit=limit, cursor=cursor
    )
    return page([WebhookOut.of(h).model_dump(mode="json") for h in hooks.items], hooks.next_cursor)


@router.delete("/{webhook_id}", response_model=Envelope[dict[str, Any]])
def delete_webhook(webhook_id: str, principal: Admin, db: DB) -> Any:
    """Delete an endpoint and its delivery history."""
    service.delete_webhook(db, organization_id=principal.organization_id, webhook_id=webhook_id)
    return ok({"id": webhook_id, "deleted": True})


@router.post("/{webhook_id}/rotate-secret", response_model=Envelope[WebhookOut])
def rotate_secret(webhook_id: str, principal: Admin, db: DB) -> Any:
    """A new signing secret (shown once); the old one also signs for 24 h."""
    hook = service.rotate_secret(
        db, organization_id=principal.organization_id, webhook_id=webhook_id
    )
    return ok(WebhookOut.of(hook, with_secret=True).model_dump(mode="json"))


@router.get("/{webhook_id}/deliveries", response_model=ListEnvelope[DeliveryOut])
def list_deliveries(
    webhook_id: str,
    principal: Admin,
    db: DB,
    status: DeliveryStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """An endpoint's deliveries, newest first, each with its attempts; `status=dead` lists the dead letters."""
    deliveries = service.list_deliveries(
        db,
        organization_id=principal.organization_id,
        webhook_id=webhook_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    items = [DeliveryOut.of(d).model_dump(mode="json") for d in deliveries.items]
    return page(items, deliveries.next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=Envelope[DeliveryOut],
)
def retry_delivery(webhook_id: str, delivery_id: str, principal: Admin, db: DB) -> Any:
    """Attempt a delivery again now, e.g. a dead letter after the receiver was fixed."""
    delivery = service.retry_delivery(
        db,
        organization_id=principal.organization_id,
        webhook_id=webhook_id,
        delivery_id=delivery_id,
    )
    return ok(DeliveryOut.of(delivery).model_dump(mode="json"))
