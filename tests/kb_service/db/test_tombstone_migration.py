"""Revision 0004 (tombstone scope) keeps existing tombstones, and round-trips (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from kb_service.db.database import MIGRATIONS_DIR, Database
from tests.conftest import postgres_url_or_skip


def _alembic(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0004_keeps_document_tombstones_and_downgrades(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    at = {"at": datetime(2026, 1, 1)}
    try:
        _alembic(db, "upgrade", "0003")
        with db.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO vector_tombstones (document_id, created_at) VALUES ('doc_a', :at)"
                ),
                at,
            )
        _alembic(db, "upgrade", "0004")
        with db.engine.begin() as c:
            rows = c.execute(text("SELECT scope, target_id FROM vector_tombstones")).all()
            assert [tuple(r) for r in rows] == [("document", "doc_a")]
            c.execute(
                text(
                    "INSERT INTO vector_tombstones (target_id, scope, created_at) "
                    "VALUES ('kb_b', 'knowledge_base', :at)"
                ),
                at,
            )
        _alembic(db, "downgrade", "0003")
        with db.engine.connect() as c:
            rows = c.execute(text("SELECT document_id FROM vector_tombstones")).all()
            assert [tuple(r) for r in rows] == [("doc_a",)]
    finally:
        db.dispose()
