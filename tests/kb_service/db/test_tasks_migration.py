"""Revision 0008 (tasks and their runs): schema equals the models, runs go with their task,
downgrading drops both tables; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from kb_service.db.database import Database
from kb_service.db.models import Base
from tests.conftest import postgres_url_or_skip
from tests.kb_service.db.test_web_sources_migration import _alembic

TABLES = {"tasks", "task_runs"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0008_adds_tasks(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    try:
        _alembic(db, "upgrade", "0007")
        db.migrate()
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with db.engine.begin() as connection:
            t = {"t": datetime(2026, 11, 1)}
            for statement in (
                "INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'a', :t)",
                "INSERT INTO tasks (id, organization_id, name, prompt, scope, top_k, enabled, "
                "created_at, updated_at) VALUES ('tsk_a', 'org_a', 'n', 'p', '{}', 8, true, :t, :t)",
                "INSERT INTO task_runs (id, task_id, organization_id, trigger, prompt, status, "
                "citations, timings, attempts, created_at) VALUES ('run_a', 'tsk_a', 'org_a', "
                "'manual', 'p', 'queued', '[]', '{}', 0, :t)",
                "DELETE FROM tasks WHERE id = 'tsk_a'",
            ):
                connection.execute(text(statement), t)
            assert connection.execute(text("SELECT COUNT(*) FROM task_runs")).scalar() == 0
        _alembic(db, "downgrade", "0007")
        with db.engine.connect() as connection:
            assert not TABLES & set(inspect(connection).get_table_names())
        db.migrate()
    finally:
        db.dispose()
