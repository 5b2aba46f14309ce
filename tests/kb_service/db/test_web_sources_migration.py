"""Revision 0007 (web sources, their syncs and pages) on a database that has content.

SQLite and PostgreSQL: upgrading from 0006 leaves existing rows alone and makes the
schema equal the models; a source goes with its knowledge base (ON DELETE CASCADE);
downgrading drops the three tables again.
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
from tests.conftest import postgres_url_or_skip

TABLES = {"web_sources", "source_syncs", "source_pages"}


def _alembic(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _run(db: Database, *statements: str) -> None:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"t": datetime(2026, 11, 1)})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0007_adds_web_sources(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    try:
        _alembic(db, "upgrade", "0006")
        _run(
            db,
            "INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'a', :t)",
            "INSERT INTO knowledge_bases (id, organization_id, name, chunk_max_tokens, "
            "chunk_overlap_tokens, metadata, created_at, updated_at) "
            "VALUES ('kb_a', 'org_a', 'a', 200, 30, '{}', :t, :t)",
        )
        db.migrate()
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        _run(
            db,
            "INSERT INTO web_sources (id, organization_id, knowledge_base_id, type, url, include, "
            "exclude, max_pages, created_at) VALUES ('src_a', 'org_a', 'kb_a', 'sitemap', "
            "'https://x.org/sitemap.xml', '[]', '[]', 10, :t)",
            "INSERT INTO source_syncs (id, source_id, organization_id, knowledge_base_id, "
            "trigger, allow_mass_delete, status, pages_fetched, pages_created, pages_unchanged, "
            "pages_updated, pages_deleted, pages_failed, pages_skipped, ingest_job_ids, "
            "failures, attempts, created_at) VALUES ('job_s', 'src_a', 'org_a', 'kb_a', "
            "'manual', false, 'queued', 0, 0, 0, 0, 0, 0, 0, '[]', '[]', 0, :t)",
            "DELETE FROM knowledge_bases WHERE id = 'kb_a'",
        )
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM web_sources")).scalar() == 0
            assert connection.execute(text("SELECT COUNT(*) FROM source_syncs")).scalar() == 0
        _alembic(db, "downgrade", "0006")
        with db.engine.connect() as connection:
            assert not TABLES & set(inspect(connection).get_table_names())
        db.migrate()
    finally:
        db.dispose()
