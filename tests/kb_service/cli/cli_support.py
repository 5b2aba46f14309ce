"""Helpers of the CLI tests: point the command line at a data directory, read what it left.

The CLI builds its own Runtime from `KB_*` variables; the embedding model is cached
per process, so the session `embedder` fixture's model is the one it gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.content import Document
from kb_service.db.database import Database
from kb_service.services import knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings
from tests.conftest import ROOT


def use_data_dir(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the CLI at `settings`' data directory; paths are relative to the repo root."""
    monkeypatch.setenv("KB_DATA_DIR", str(settings.storage.data_dir))
    monkeypatch.setenv("KB_WORKER_POLL_SECONDS", "0.05")
    monkeypatch.chdir(ROOT)


@contextmanager
def metadata_database(settings: Settings) -> Iterator[Database]:
    """The data directory's metadata database, as the CLI left it."""
    db = Database(settings.resolved_database_url)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def metadata_db(settings: Settings) -> Iterator[Session]:
    """A session on the data directory's metadata database, as the CLI left it."""
    with metadata_database(settings) as db, db.session() as session:
        yield session


def documents_of(settings: Settings, org: str, kb_name: str) -> dict[str, str]:
    """{source: status} of a knowledge base's documents."""
    with metadata_database(settings) as db:
        org_id = get_or_create_organization(db, name=org).id
        kb = knowledge_bases.find_kb_by_name(db, organization_id=org_id, name=kb_name)
        assert kb is not None
        with db.session() as session:
            rows = session.execute(
                select(Document.source, Document.status).where(Document.knowledge_base_id == kb.id)
            ).all()
        return {source: status for source, status in rows}


@dataclass
class IngestRun:
    """What one `kb-service ingest` run printed and returned, and its data directory."""

    settings: Settings
    exit_code: int
    stdout: str
    other_job_id: str
