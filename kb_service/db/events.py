"""The event outbox: events are written in the transaction of the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from kb_service.db.base import Base, iso_z, new_id, utcnow
from kb_service.db.database import Wake, wake_after_commit


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_undispatched", "dispatched_at", "created_at"),
        Index("ix_events_org_created", "organization_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("evt"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]

    def envelope(self) -> dict[str, Any]:
        """The event as webhook receivers see it."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": iso_z(self.created_at),
            "organization_id": self.organization_id,
            "data": self.data,
        }


def record_event(
    session: Session, *, organization_id: str, type: str, data: dict[str, Any]
) -> Event:
    """Add an event to the outbox inside the caller's transaction."""
    event = Event(organization_id=organization_id, type=type, data=data, created_at=utcnow())
    session.add(event)
    wake_after_commit(session, Wake.WEBHOOKS)
    return event
