"""Webhook endpoints, their signing secrets and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kb_service.api.deps import DB, Admin, RuntimeDep
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from kb_service.db.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from kb_service.services import webhooks as service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://hooks.example.com/kb", "event_types": ["*"]}]
        },
    )
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(default_factory=lambda: ["*"], max_length=20)
    description: str | None = Field(default=None, max_length=2000)


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None
    event_types: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    secret: str | None = Field(
        default=None, description="`whsec_...`; only in the creation and rotation responses."
    )

    @classmethod
    def of(cls, hook: Webhook, *, with_secret: bool = False) -> WebhookOut:
        return cls(
            id=hook.id,
            url=hook.url,
            description=hook.description,
            event_types=list(hook.event_types),
            status="disabled" if hook.disabled_at else "active",
            disabled_reason=hook.disabled_reason,
            previous_secret_expires_at=hook.previous_secret_expires_at,
            created_at=hook.created_at,
            secret=hook.secret if with_secret else None,
        )


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> AttemptOut:
        return cls(
            number=attempt.number,
            started_at=attempt.started_at,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
        )


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivering", "succeeded", "dead"]
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: WebhookDelivery, attempts: list[DeliveryAttempt]) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,  # type: ignore[arg-type]
            attempt_count=d.attempt_count,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            attempts=[AttemptOut.of(a) for a in attempts],
        )


@router.post("", status_code=201, response_model=Envelope[WebhookOut])
def create_webhook(body: WebhookIn, principal: Admin, db: DB, runtime: RuntimeDep) -> Any:
    """Register an endpoint; its signing secret is shown in this response only."""
    with db.session() as session:
        hook = service.create_webhook(
            session,
            organization_id=principal.organization_id,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            allow_private=runtime.settings.webhook_allow_private,
        )
        return ok(WebhookOut.of(hook, with_secret=True).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[WebhookOut])
def list_webhooks(
    principal: Admin, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Any:
    """List the organization's webhook endpoints, oldest first."""
    with db.session() as session:
        rows, next_cursor = paginate(
            session,
            select(Webhook).where(Webhook.organization_id == principal.organization_id),
            created_at=Webhook.created_at,
            row_id=Webhook.id,
            limit=limit,
            cursor=cursor,
        )
        return page([WebhookOut.of(h).model_dump(mode="json") for h in rows], next_cursor)


@router.delete("/{webhook_id}", response_model=Envelope[dict[str, Any]])
def delete_webhook(webhook_id: str, principal: Admin, db: DB) -> Any:
    """Delete an endpoint and its delivery history."""
    with db.session() as session:
        service.delete_webhook(
            session, organization_id=principal.organization_id, webhook_id=webhook_id
        )
    return ok({"id": webhook_id, "deleted": True})


@router.post("/{webhook_id}/rotate-secret", response_model=Envelope[WebhookOut])
def rotate_secret(webhook_id: str, principal: Admin, db: DB) -> Any:
    """A new signing secret (shown once); the old one also signs for 24 h."""
    with db.session() as session:
        hook = service.rotate_secret(
            session, organization_id=principal.organization_id, webhook_id=webhook_id
        )
        return ok(WebhookOut.of(hook, with_secret=True).model_dump(mode="json"))


@router.get("/{webhook_id}/deliveries", response_model=ListEnvelope[DeliveryOut])
def list_deliveries(
    webhook_id: str,
    principal: Admin,
    db: DB,
    status: Literal["pending", "delivering", "succeeded", "dead"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """An endpoint's deliveries, newest first, each with its attempts; `status=dead` lists the dead letters."""
    with db.session() as session:
        service.get_webhook(
            session, organization_id=principal.organization_id, webhook_id=webhook_id
        )
        statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if status:
            statement = statement.where(WebhookDelivery.status == status)
        rows, next_cursor = paginate(
            session,
            statement,
            created_at=WebhookDelivery.created_at,
            row_id=WebhookDelivery.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        attempts = service.attempts_of(session, [d.id for d in rows])
        items = [DeliveryOut.of(d, attempts[d.id]).model_dump(mode="json") for d in rows]
        return page(items, next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=Envelope[DeliveryOut],
)
def retry_delivery(
    webhook_id: str, delivery_id: str, principal: Admin, db: DB, runtime: RuntimeDep
) -> Any:
    """Attempt a delivery again now, e.g. a dead letter after the receiver was fixed."""
    with db.session() as session:
        delivery = service.retry_delivery(
            session,
            organization_id=principal.organization_id,
            webhook_id=webhook_id,
            delivery_id=delivery_id,
        )
        attempts = service.attempts_of(session, [delivery.id])[delivery.id]
        result = DeliveryOut.of(delivery, attempts).model_dump(mode="json")
    runtime.webhooks_due()
    return ok(result)
