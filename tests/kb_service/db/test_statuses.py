"""Status columns hold only their vocabulary, read back as enum members, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from kb_service.api.app import create_app
from kb_service.db.base import new_id
from kb_service.db.database import Database
from kb_service.db.jobs import IngestJob
from kb_service.services.keys import get_or_create_organization
from kb_service.statuses import DeliveryStatus, ItemStatus, JobStatus, MeetingStatus
from tests.conftest import make_settings, postgres_url_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "postgresql":
        url = postgres_url_or_skip()
    else:
        url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    database = Database(url)
    database.migrate()
    return database


def _job(organization_id: str, status: str) -> IngestJob:
    return IngestJob(organization_id=organization_id, knowledge_base_id=new_id("kb"), status=status)


def test_a_status_reads_back_as_its_enum_member_and_is_stored_as_plain_text(db: Database) -> None:
    org = get_or_create_organization(db, name="acme")
    with db.session() as session:
        job = _job(org.id, JobStatus.PARTIALLY_FAILED)
        session.add(job)
        session.flush()
        job_id = job.id
    with db.session() as session:
        stored = session.execute(
            text("SELECT status FROM ingest_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
        loaded = session.get(IngestJob, job_id)
        assert loaded is not None
        assert stored == "partially_failed" and type(stored) is str
        assert loaded.status is JobStatus.PARTIALLY_FAILED


def test_a_status_outside_the_vocabulary_is_refused_before_anything_is_stored(
    db: Database,
) -> None:
    org = get_or_create_organization(db, name="acme")
    refused = pytest.raises(StatementError, match="'finished' is not a valid JobStatus")
    with refused, db.session() as session:
        session.add(_job(org.id, "finished"))
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM ingest_jobs")).scalar_one() == 0


def test_the_openapi_document_enumerates_each_status_vocabulary(tmp_path: Path) -> None:
    spec = create_app(settings=make_settings(tmp_path), start_workers=False).openapi()
    schemas = spec["components"]["schemas"]
    for vocabulary in (JobStatus, ItemStatus, MeetingStatus, DeliveryStatus):
        assert schemas[vocabulary.__name__]["enum"] == [member.value for member in vocabulary]
