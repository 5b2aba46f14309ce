"""Idempotency records: the first response to a POST, replayed for repeats of its key.

A record is created `in_flight` before the request runs (the unique key makes exactly
one request win a race) and completed with the response once it has been sent. It
holds no readable secret: the Idempotency-Key is stored as an HMAC and the response
sealed (see `services/idempotency_seal.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb_service.db.base import Base, StatusType, new_id, utcnow
from kb_service.statuses import IdempotencyState


class IdempotencyRecord(Base):
    """state: in_flight → completed. `expires_at` = creation + KB_IDEMPOTENCY_TTL_HOURS."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("organization_id", "key_hash"),
        Index("ix_idempotency_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("idem"))
    # No foreign key: records are a cache of responses, purged on their own schedule.
    organization_id: Mapped[str] = mapped_column(String(40))
    # HMAC of the Idempotency-Key under the server secret; the key itself is not stored.
    key_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    request_hash: Mapped[str] = mapped_column(String(64))
    # The role of the key that made the first request: a replay needs at least as much.
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[IdempotencyState] = mapped_column(
        StatusType(IdempotencyState, 16), default=IdempotencyState.IN_FLIGHT
    )
    response_status: Mapped[int | None] = mapped_column(Integer)
    # Headers and body, AES-GCM sealed under the server secret and the Idempotency-Key.
    sealed_response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
