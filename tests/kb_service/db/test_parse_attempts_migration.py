"""Revision 0005 (parse attempts, last claim, claim indexes) on a database with jobs in it.

SQLite and PostgreSQL: an existing queued job keeps its item, which starts at zero
parse attempts and is claimed by the new fair claim; the schema then equals the
models; downgrading removes the columns and indexes again.
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
from kb_service.workers.ingest.queue import JobQueue
from tests.conftest import postgres_url_or_skip


def _alembic(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _seed(db: Database) -> None:
    at = {"t": datetime(2026, 11, 1)}
    statements = [
        "INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'a', :t)",
        "INSERT INTO knowledge_bases (id, organization_id, name, chunk_max_tokens, "
        "chunk_overlap_tokens, metadata, created_at, updated_at) "
        "VALUES ('kb_a', 'org_a', 'a', 200, 30, '{}', :t, :t)",
        "INSERT INTO ingest_jobs (id, organization_id, knowledge_base_id, status, "
        "documents_total, documents_done, chunks_indexed, attempts, created_at) "
        "VALUES ('job_1', 'org_a', 'kb_a', 'queued', 1, 0, 0, 0, :t)",
        "INSERT INTO ingest_items (id, job_id, position, filename, metadata, content_hash, "
        "status, chunk_count) VALUES ('itm_1', 'job_1', 0, 'a.txt', '{}', 'x', 'pending', 0)",
    ]
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), at)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0005_adds_parse_attempts_and_claim_columns(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    try:
        _alembic(db, "upgrade", "0004")
        _seed(db)
        db.migrate()
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT parse_attempts FROM ingest_items")).one()
            assert row.parse_attempts == 0
            assert connection.execute(text("SELECT claimed_at FROM ingest_jobs")).scalar() is None
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert JobQueue(db, 60).claim("w1") == "job_1"
        _alembic(db, "downgrade", "0004")
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            assert "parse_attempts" not in {
                c["name"] for c in inspector.get_columns("ingest_items")
            }
            assert "claimed_at" not in {c["name"] for c in inspector.get_columns("ingest_jobs")}
            indexes = {i["name"] for i in inspector.get_indexes("ingest_jobs")}
            assert not indexes & {"ix_jobs_org_status", "ix_jobs_org_claimed"}
        db.migrate()
    finally:
        db.dispose()
