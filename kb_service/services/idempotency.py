"""Idempotency records: claim a key, complete it with the response, replay it, purge it.

`claim` is a write first (delete the key's expired record, then INSERT .. ON CONFLICT
DO NOTHING), so on SQLite it takes the write lock before reading and on PostgreSQL
the insert waits for a concurrent claim of the same key to commit: of any number of
simultaneous requests with one key, exactly one gets `Claimed`.

Records are found by the key's HMAC and responses stored sealed (`ResponseSeal`), so
`claim` and `complete` take the raw Idempotency-Key and the seal. A completed record
whose response fails to open (altered in the database) is replaced by a new claim:
the request runs again rather than replaying something the server did not write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kb_service.db.base import new_id
from kb_service.db.database import Database
from kb_service.db.idempotency import IdempotencyRecord
from kb_service.errors import InvalidInput, PermissionDenied
from kb_service.services.idempotency_seal import ResponseSeal
from kb_service.services.keys import Principal
from kb_service.statuses import IdempotencyState

# An in-flight record this old belonged to a process that died mid-request: take it over.
STALE_IN_FLIGHT = timedelta(minutes=5)


class IdempotencyKeyReused(InvalidInput):
    """The key was first used with another method, path or body."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Claimed:
    record_id: str


@dataclass(frozen=True)
class Replay:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class InFlight:
    """The first request with this key is still running."""


Claim = Claimed | Replay | InFlight


def claim(
    db: Database,
    *,
    seal: ResponseSeal,
    principal: Principal,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    now: datetime,
    ttl: timedelta,
) -> Claim:
    """Claim `key` for this request, or say what to do instead.

    Raises `IdempotencyKeyReused` for another request under the key, and
    `PermissionDenied` when the first request was made with a more powerful role (a
    reader must not receive an admin's response, such as a new API key's secret).
    """
    organization_id = principal.organization_id
    key_hash = seal.key_hash(organization_id, key)
    same_key = (IdempotencyRecord.organization_id == organization_id) & (
        IdempotencyRecord.key_hash == key_hash
    )
    values: dict[str, Any] = {
        "organization_id": organization_id,
        "key_hash": key_hash,
        "method": method,
        "path": path,
        "request_hash": request_hash,
        "role": principal.role,
        "state": "in_flight",
        "created_at": now,
        "expires_at": now + ttl,
    }
    with db.session() as session:
        session.execute(
            delete(IdempotencyRecord).where(
                same_key,
                (IdempotencyRecord.expires_at <= now)
                | (
                    (IdempotencyRecord.state == "in_flight")
                    & (IdempotencyRecord.created_at <= now - STALE_IN_FLIGHT)
                ),
            )
        )
        record_id = _insert(session, db, values)
        if record_id is not None:
            return Claimed(record_id)
        record = session.scalars(select(IdempotencyRecord).where(same_key)).one()
        if (record.method, record.path, record.request_hash) != (method, path, request_hash):
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request; "
                "use a new key for a new request.",
                errors=[
                    {"field": "Idempotency-Key", "message": "key reused", "type": "value_error"}
                ],
            )
        if not principal.can(record.role):
            raise PermissionDenied(
                f"This Idempotency-Key was first used by a key with the {record.role} role; "
                f"its response cannot be replayed to a {principal.role} key."
            )
        if record.state != IdempotencyState.COMPLETED:
            return InFlight()
        assert record.response_status is not None and record.sealed_response is not None
        opened = seal.open(
            organization_id,
            key,
            bound_to=seal.bound_to(organization_id, key_hash, request_hash, record.response_status),
            sealed=record.sealed_response,
        )
        if opened is not None:
            return Replay(record.response_status, *opened)
        # Altered in the database: run the request again under a fresh claim (unless a
        # concurrent request with the key replaced it first: then wait for that one).
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
        record_id = _insert(session, db, values)
        return InFlight() if record_id is None else Claimed(record_id)


def _insert(session: Session, db: Database, values: dict[str, Any]) -> str | None:
    """INSERT the claim unless the key is taken; its id, or None."""
    insert = pg_insert if not db.is_sqlite else sqlite_insert
    record_id = new_id("idem")
    inserted = session.execute(
        insert(IdempotencyRecord)
        .values(id=record_id, **values)
        .on_conflict_do_nothing(index_elements=["organization_id", "key_hash"])
        .returning(IdempotencyRecord.id)
    ).first()
    return record_id if inserted is not None else None


def complete(
    db: Database,
    record_id: str,
    *,
    seal: ResponseSeal,
    key: str,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    """Store the response of a claimed request, sealed under the server secret and `key`."""
    with db.session() as session:
        record = session.get(IdempotencyRecord, record_id)
        if record is not None:
            bound_to = seal.bound_to(
                record.organization_id, record.key_hash, record.request_hash, status
            )
            record.state = IdempotencyState.COMPLETED
            record.response_status = status
            record.sealed_response = seal.seal(
                record.organization_id, key, bound_to=bound_to, headers=headers, body=body
            )


def release(db: Database, record_id: str) -> None:
    """Forget a claim whose answer is not replayed (401, 403, 429, 5xx, crash): the key runs again."""
    with db.session() as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired(db: Database, *, now: datetime) -> int:
    with db.session() as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
