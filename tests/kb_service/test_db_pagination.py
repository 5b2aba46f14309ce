"""Keyset pages and cursors (`kb_service.db.pagination`) on a real SQLite database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kb_service.db.base import utcnow
from kb_service.db.content import KnowledgeBase
from kb_service.db.database import Database
from kb_service.db.identity import Organization
from kb_service.db.pagination import Page, decode_cursor, encode_cursor, page_of, paginate
from kb_service.errors import InvalidInput

MOMENT = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
# A cursor handed out before the module moved: clients holding one must keep paging.
ISSUED = "WyIyMDI2LTAzLTAyVDA5OjMwOjE1LjEyMzQ1NiswMDowMCIsImtiXzBhMWIyYyIsIjk1ZGI1YTkzNzhhMCJd"


def test_cursor_encoding_is_stable_and_round_trips() -> None:
    assert encode_cursor(MOMENT, "kb_0a1b2c") == ISSUED
    assert decode_cursor(ISSUED) == (MOMENT, "kb_0a1b2c")
    other_zone = MOMENT.astimezone(datetime.now().astimezone().tzinfo)
    assert decode_cursor(encode_cursor(other_zone, "kb_x")) == (MOMENT, "kb_x")


def _raw(created: str, row_id: str, checksum: str) -> str:
    raw = json.dumps([created, row_id, checksum], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        ISSUED[:-3],  # truncated
        ISSUED[:40] + ("B" if ISSUED[40] != "B" else "C") + ISSUED[41:],  # edited
        _raw(MOMENT.isoformat(), "kb_other", "95db5a9378a0"),  # checksum of another row
        _raw("2026-03-02T09:30:15", "kb_0a1b2c", "0" * 12),  # naive time
        "A" * 401,  # too long
        "not base64 at all!",
    ],
)
def test_a_bad_cursor_is_invalid_input_on_the_cursor_field(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.errors == [
        {"field": "cursor", "message": "malformed cursor", "type": "value_error"}
    ]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    database.migrate()
    yield database
    database.dispose()


def add_kbs(db: Database, times: list[datetime]) -> str:
    """Knowledge bases created at `times` (ties on purpose), in a new organization."""
    with db.session() as session:
        org = Organization(name="acme", created_at=utcnow())
        session.add(org)
        session.flush()
        session.add_all(
            KnowledgeBase(
                organization_id=org.id,
                name=f"kb {n}",
                chunk_max_tokens=200,
                chunk_overlap_tokens=20,
                created_at=at,
                updated_at=at,
            )
            for n, at in enumerate(times)
        )
        return org.id


def every_page(db: Database, org_id: str, limit: int, newest_first: bool) -> list[Page[str]]:
    pages: list[Page[str]] = []
    cursor = None
    while True:
        with db.session() as session:
            page = paginate(
                session,
                select(KnowledgeBase).where(KnowledgeBase.organization_id == org_id),
                created_at=KnowledgeBase.created_at,
                row_id=KnowledgeBase.id,
                limit=limit,
                cursor=cursor,
                newest_first=newest_first,
            )
        pages.append(page.map(lambda kb: kb.id))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("newest_first", [False, True])
def test_pages_follow_created_at_then_id_without_repeats(db: Database, newest_first: bool) -> None:
    times = [MOMENT + timedelta(seconds=n // 3) for n in range(10)]  # three rows per second
    org_id = add_kbs(db, times)
    with db.session() as session:
        rows = session.execute(select(KnowledgeBase.created_at, KnowledgeBase.id)).all()
    expected = [row_id for _, row_id in sorted(rows, reverse=newest_first)]
    pages = every_page(db, org_id, limit=4, newest_first=newest_first)
    assert [len(p.items) for p in pages] == [4, 4, 2]
    assert [i for p in pages for i in p.items] == expected
    assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])


def test_a_full_last_page_has_no_next_cursor(db: Database) -> None:
    org_id = add_kbs(db, [MOMENT + timedelta(seconds=n) for n in range(4)])
    (page,) = every_page(db, org_id, limit=4, newest_first=False)
    assert len(page.items) == 4 and page.next_cursor is None


def test_page_of_trims_the_extra_row_and_points_at_the_last_one_kept() -> None:
    class Row:
        def __init__(self, n: int) -> None:
            self.created_at, self.id = MOMENT + timedelta(seconds=n), f"row_{n}"

    rows = [Row(n) for n in range(3)]
    page = page_of(rows, 2)
    assert page.items == rows[:2]
    assert page.next_cursor == encode_cursor(rows[1].created_at, "row_1")
    assert page_of(rows, 3) == Page(rows, None)
