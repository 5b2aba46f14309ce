"""Revision 0006 (members, invitations, key rotation and expiry) on a database with keys.

SQLite and PostgreSQL: every organization gets an owner member (admin) that its
existing keys belong to, so the keys keep working with their roles; the schema then
equals the models; downgrading removes the tables and columns again.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from kb_service.db.database import MIGRATIONS_DIR, Database
from kb_service.db.models import Base
from kb_service.services.keys import authenticate, hash_key
from tests.conftest import postgres_url_or_skip


def _alembic(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0006_gives_existing_keys_an_owner_member(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    try:
        _alembic(db, "upgrade", "0005")
        with db.engine.begin() as connection:
            for org in ("org_a", "org_b"):
                connection.execute(
                    text("INSERT INTO organizations (id, name, created_at) VALUES (:o, :o, :t)"),
                    {"o": org, "t": datetime(2026, 11, 1)},
                )
            for key, org, role in (
                ("key_1", "org_a", "writer"),
                ("key_2", "org_a", "admin"),
                ("key_3", "org_b", "reader"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO api_keys (id, organization_id, role, key_hash, key_prefix, created_at) "
                        "VALUES (:k, :o, :r, :h, 'sk_xxxx', :t)"
                    ),
                    {
                        "k": key,
                        "o": org,
                        "r": role,
                        "h": hash_key(f"sk_{key}"),
                        "t": datetime(2026, 11, 1),
                    },
                )
        db.migrate()
        with db.engine.connect() as connection:
            owners = connection.execute(
                text(
                    "SELECT organization_id, id, role, is_owner FROM members ORDER BY organization_id"
                )
            ).all()
            assert [(o.organization_id, o.role, bool(o.is_owner)) for o in owners] == [
                ("org_a", "admin", True),
                ("org_b", "admin", True),
            ]
            by_org = {o.organization_id: o.id for o in owners}
            keys = connection.execute(
                text("SELECT id, organization_id, member_id FROM api_keys")
            ).all()
            assert all(k.member_id == by_org[k.organization_id] for k in keys)
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        principal = authenticate(db, secret="sk_key_1")
        assert (principal.role, principal.member_id) == ("writer", by_org["org_a"])
        _alembic(db, "downgrade", "0005")
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            assert not {"members", "invitations"} & set(inspector.get_table_names())
            assert "member_id" not in {c["name"] for c in inspector.get_columns("api_keys")}
        db.migrate()
    finally:
        db.dispose()
