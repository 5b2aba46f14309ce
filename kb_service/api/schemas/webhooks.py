"""Request and response bodies of the webhook routes: endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kb_service.db.webhooks import DeliveryAttempt, Webhook
from kb_service.services.webhooks import DeliveryWithAttempts
from kb_service.statuses import DeliveryStatus


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
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, counted: DeliveryWithAttempts) -> DeliveryOut:
        d = counted.delivery
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
            attempts=[AttemptOut.of(a) for a in counted.attempts],
        )
