"""Opaque keyset cursors over (created_at, id).

A cursor encodes the last row a client saw; the next page is every row strictly
after it in (created_at, id) order, so rows inserted or deleted while a client pages
are never returned twice and never make it skip a row that existed throughout.

The cursor carries a checksum, so an edited or truncated cursor is refused (422)
instead of silently positioning the page somewhere else. It is not a secret and need
not be: a cursor only positions a query that is still filtered to the caller's rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from kb_service.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
T = TypeVar("T")


def _checksum(position: str) -> str:
    return hashlib.sha256(b"kb-cursor:" + position.encode()).hexdigest()[:12]


def encode_cursor(created_at: datetime, row_id: str) -> str:
    position = created_at.isoformat()
    raw = json.dumps([position, row_id, _checksum(position + "|" + row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        if len(cursor) > 400:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id, checksum = json.loads(raw)
        if not isinstance(created, str) or not isinstance(row_id, str):
            raise ValueError
        if checksum != _checksum(created + "|" + row_id):
            raise ValueError
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC), row_id
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise InvalidInput(
            "The cursor is not valid; use the next_cursor value of a previous page.",
            errors=[{"field": "cursor", "message": "malformed cursor", "type": "value_error"}],
        ) from None


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    created_at: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> tuple[Sequence[Any], str | None]:
    """One page of `statement` (which selects one entity) and the cursor of the next."""
    if cursor:
        after_created, after_id = decode_cursor(cursor)
        if newest_first:
            statement = statement.where(
                or_(
                    created_at < after_created, and_(created_at == after_created, row_id < after_id)
                )
            )
        else:
            statement = statement.where(
                or_(
                    created_at > after_created, and_(created_at == after_created, row_id > after_id)
                )
            )
    order = (created_at.desc(), row_id.desc()) if newest_first else (created_at.asc(), row_id.asc())
    rows = session.scalars(statement.order_by(*order).limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at, last.id)
