"""Revision 0009 (key scopes): a key made before it has no scopes (the whole organization)
and still authenticates; the schema equals the models; downgrading drops the column;
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from kb_service.db.database import Database
from kb_service.db.models import Base
from kb_service.services.keys import authenticate, new_secret
from tests.conftest import postgres_url_or_skip
from tests.kb_service.db.test_web_sources_migration import _alembic


def _key_columns(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns("api_keys")}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0009_leaves_existing_keys_unscoped(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    secret, digest, prefix = new_secret()
    try:
        _alembic(db, "upgrade", "0008")
        assert "scopes" not in _key_columns(db)
        with db.engine.begin() as connection:
            values = {"t": datetime(2026, 11, 1), "hash": digest, "prefix": prefix}
            connection.execute(
                text("INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'a', :t)"),
                values,
            )
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, organization_id, role, key_hash, key_prefix, "
                    "created_at) VALUES ('key_a', 'org_a', 'reader', :hash, :prefix, :t)"
                ),
                values,
            )
        db.migrate()
        with db.engine.connect() as connection:
            scopes = connection.execute(text("SELECT scopes FROM api_keys")).scalar_one()
            assert scopes is None
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        principal = authenticate(db, secret=secret)
        assert (principal.key_id, principal.organization_id) == ("key_a", "org_a")
        assert principal.scope is None
        _alembic(db, "downgrade", "0008")
        assert "scopes" not in _key_columns(db)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM api_keys")).scalar_one() == "key_a"
        db.migrate()
        assert "scopes" in _key_columns(db)
    finally:
        db.dispose()
