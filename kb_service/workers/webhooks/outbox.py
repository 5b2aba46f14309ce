"""Fan-out: every undispatched outbox event becomes one delivery per subscribed endpoint.

Events are claimed by one UPDATE (on PostgreSQL the candidates are picked with
`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers split the backlog; on SQLite the
write lock serialises them), and their deliveries are inserted in the same
transaction: an event is either still undispatched or has all its deliveries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb_service.db.events import Event
from kb_service.db.webhooks import Webhook, WebhookDelivery
from kb_service.statuses import DeliveryStatus
from kb_service.workers.webhooks.schedule import RETRY_WINDOW

BATCH = 200


def fan_out(session: Session, *, now: datetime, is_sqlite: bool, limit: int = BATCH) -> int:
    """Turn up to `limit` undispatched events into deliveries; the number of events taken."""
    candidates = (
        select(Event.id)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.created_at, Event.id)
        .limit(limit)
    )
    if not is_sqlite:
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(Event)
        .where(Event.id.in_(candidates.scalar_subquery()))
        .values(dispatched_at=now)
        .returning(Event.id, Event.organization_id, Event.type),
        execution_options={"synchronize_session": False},
    ).all()
    if not claimed:
        return 0
    hooks: dict[str, list[Webhook]] = defaultdict(list)
    for hook in session.scalars(
        select(Webhook).where(
            Webhook.organization_id.in_({row.organization_id for row in claimed}),
            Webhook.disabled_at.is_(None),
        )
    ):
        hooks[hook.organization_id].append(hook)
    for row in claimed:
        for hook in hooks[row.organization_id]:
            if hook.subscribes_to(row.type):
                session.add(
                    WebhookDelivery(
                        webhook_id=hook.id,
                        event_id=row.id,
                        organization_id=row.organization_id,
                        event_type=row.type,
                        status=DeliveryStatus.PENDING,
                        next_attempt_at=now,
                        retry_until=now + RETRY_WINDOW,
                        created_at=now,
                    )
                )
    return len(claimed)
