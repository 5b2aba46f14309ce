"""Opaque keyset cursors over (created_at, id), and the pages they position.

A cursor encodes the last row a client saw; the next page is every row strictly
after it in (created_at, id) order, so rows inserted or deleted while a client pages
are never returned twice and never make it skip a row that existed throughout.

The cursor carries a checksum, so an edited or truncated cursor is refused
(`InvalidInput`) instead of silently positioning the page somewhere else. It is not a
secret and need not be: a cursor only positions a query that is still filtered to the
caller's rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from kb_service.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
T = TypeVar("T")
U = TypeVar("U")
Ts = TypeVarTuple("Ts")


class Keyed(Protocol):
    """A row a cursor can point at."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


K = TypeVar("K", bound=Keyed)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None = None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(item) for item in self.items], self.next_cursor)


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


def after_cursor(
    statement: Select[*Ts],
    *,
    created_at: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> Select[*Ts]:
    """`statement` narrowed to the rows after `cursor`, in page order, one row past `limit`."""
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
    return statement.order_by(*order).limit(limit + 1)


def page_of(rows: Sequence[K], limit: int) -> Page[K]:
    """The first `limit` of `rows` (fetched with one extra), with the next page's cursor."""
    if len(rows) <= limit:
        return Page(list(rows), None)
    last = rows[limit - 1]
    return Page(list(rows[:limit]), encode_cursor(last.created_at, last.id))


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    created_at: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> Page[Any]:
    """One page of `statement` (which selects one entity) and the cursor of the next."""
    narrowed = after_cursor(
        statement,
        created_at=created_at,
        row_id=row_id,
        limit=limit,
        cursor=cursor,
        newest_first=newest_first,
    )
    return page_of(session.scalars(narrowed).all(), limit)
