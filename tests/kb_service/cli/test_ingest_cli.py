"""The `kb-service` command line, run in-process against a real data directory.

The CLI builds its own Runtime from `KB_*` variables; the embedding model is cached
per process, so the session `embedder` fixture's model is the one it gets.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.api.app import create_app
from kb_service.cli import main
from kb_service.db.content import Document, KnowledgeBase
from kb_service.db.database import Database
from kb_service.db.jobs import IngestJob
from kb_service.jobs.queue import JobQueue
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings
from retrieval.embedding import Embedder
from tests.conftest import ROOT, make_settings

INGEST = [
    "ingest",
    "sample_docs/runbook.md",
    "sample_docs/notes.txt",
    "sample_docs/bad/empty.txt",
    "--kb",
    "handbook",
    "--org",
    "acme",
]


def use_data_dir(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the CLI at `settings`' data directory; paths are relative to the repo root."""
    monkeypatch.setenv("KB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KB_WORKER_POLL_SECONDS", "0.05")
    monkeypatch.chdir(ROOT)


@contextmanager
def metadata_db(settings: Settings) -> Iterator[Session]:
    """A session on the data directory's metadata database, as the CLI left it."""
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def documents_of(settings: Settings, org: str, kb_name: str) -> dict[str, str]:
    """{source: status} of a knowledge base's documents."""
    with metadata_db(settings) as session:
        org_id = get_or_create_organization(session, name=org).id
        kb = knowledge_bases.find_kb_by_name(session, organization_id=org_id, name=kb_name)
        assert kb is not None
        rows = session.execute(
            select(Document.source, Document.status).where(Document.knowledge_base_id == kb.id)
        ).all()
        return {source: status for source, status in rows}


def test_keys_create_json_prints_one_object_whose_key_authenticates(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)

    assert main(["keys", "create", "--org", "acme", "--role", "admin", "--json"]) == 0

    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line: one object
    created = json.loads(out)
    assert set(created) == {"organization_id", "key_id", "key"}
    assert created["key"].startswith("sk_")
    assert created["key_id"].startswith("key_")
    assert created["organization_id"].startswith("org_")

    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            me = client.get("/api/v1/workspaces/me", headers={"X-API-Key": created["key"]})
            wrong = client.get("/api/v1/workspaces/me", headers={"X-API-Key": "sk_not_a_key"})
    finally:
        runtime.close()
    assert me.status_code == 200
    assert me.json()["data"] == {
        "organization_id": created["organization_id"],
        "organization_name": "acme",
        "key_id": created["key_id"],
        "role": "admin",
    }
    assert wrong.status_code == 401


@dataclass
class IngestRun:
    settings: Settings
    exit_code: int
    stdout: str
    other_job_id: str


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[IngestRun]:
    """`kb-service ingest` of two good files and an empty one, with another KB's job queued."""
    settings = make_settings(tmp_path_factory.mktemp("cli"))
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with runtime.db.session() as session:
            org = get_or_create_organization(session, name="acme")
            other = knowledge_bases.kb_by_name(
                session, organization_id=org.id, pipeline=runtime.pipeline, name="other"
            )
            job = ingestion.submit_ingest(
                session,
                organization_id=org.id,
                kb_id=other.id,
                uploads=[ingestion.Upload("faq.md", b"# FAQ\n\nThe office opens at nine.")],
            )
            other_job_id = job.id
    finally:
        runtime.close()  # no workers were started: the job stays queued

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, redirect_stdout(stdout):
        use_data_dir(monkeypatch, settings)
        exit_code = main(INGEST)
    yield IngestRun(settings, exit_code, stdout.getvalue(), other_job_id)


def test_ingest_indexes_the_good_files_and_reports_the_bad_one(handbook: IngestRun) -> None:
    out = handbook.stdout
    assert handbook.exit_code == 0, out  # some documents made it in
    failed = re.findall(r"^\s+failed: (\S+): (.+)$", out, re.MULTILINE)
    assert [path for path, _ in failed] == ["sample_docs/bad/empty.txt"], out
    assert len(failed[0][1]) > 15, out  # a sentence, not a bare status
    assert "2 of 3 documents ingested into 'handbook'; 1 failed" in out
    assert documents_of(handbook.settings, "acme", "handbook") == {
        "runbook.md": "indexed",
        "notes.txt": "indexed",
    }


def test_ingest_leaves_another_knowledge_bases_queued_job_alone(handbook: IngestRun) -> None:
    with metadata_db(handbook.settings) as session:
        job = session.get(IngestJob, handbook.other_job_id)
        assert job is not None
        assert job.status == "queued"
        assert (job.attempts, job.documents_done, job.lease_owner) == (0, 0, None)
    assert documents_of(handbook.settings, "acme", "other") == {}


def test_query_prints_an_answer_with_a_citation(
    handbook: IngestRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_data_dir(monkeypatch, handbook.settings)
    question = "How do I roll back the payments gateway after a bad deploy?"

    assert main(["query", "--kb", "handbook", "--org", "acme", question]) == 0

    out = capsys.readouterr().out
    answer, _, sources = out.partition("\n\n")
    markers = set(re.findall(r"\[(\d+)\]", answer))
    assert markers, out
    listed = dict(re.findall(r"^\[(\d+)\] .*\((\S+?)[,)]", sources, re.MULTILINE))
    assert markers <= set(listed), out  # every marker resolves to a printed source
    assert "runbook.md" in {listed[m] for m in markers}, out


def test_ingest_waits_for_its_job_when_a_standalone_worker_took_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)
    real_claim = JobQueue.claim_job
    real_build = Runtime.build
    built: list[Runtime] = []

    def recording_build(*args: object, **kwargs: object) -> Runtime:
        built.append(real_build(*args, **kwargs))  # type: ignore[arg-type]
        return built[-1]

    monkeypatch.setattr(Runtime, "build", recording_build)
    standalone: list[threading.Thread] = []
    seen: dict[str, IngestJob] = {}

    def taken_by_another_worker(queue: JobQueue, job_id: str, worker_id: str) -> bool:
        """The first time: another worker wins the claim and processes the job, slowly."""
        if not standalone:
            assert real_claim(queue, job_id, "standalone-worker")
            thread = threading.Thread(
                target=lambda: built[-1].processor.process(job_id, "standalone-worker")
            )
            standalone.append(thread)
            thread.start()
            return False
        with queue.db.session() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            session.expunge(job)
            seen[job_id] = job
        return real_claim(queue, job_id, worker_id)

    monkeypatch.setattr(JobQueue, "claim_job", taken_by_another_worker)

    code = main(["ingest", "sample_docs/runbook.md", "sample_docs/bad/empty.txt", "--kb", "ops"])

    standalone[0].join(60)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 of 2 documents ingested into 'ops'; 1 failed" in out
    assert re.search(r"^\s+failed: sample_docs/bad/empty.txt: .{15,}$", out, re.MULTILINE), out
    assert documents_of(settings, "default", "ops") == {"runbook.md": "indexed"}
    # while the other worker held it, the command never took the job over
    assert all(j.lease_owner in ("standalone-worker", None) for j in seen.values())
    with metadata_db(settings) as session:
        job = session.scalars(select(IngestJob)).one()
        assert (job.status, job.attempts) == ("partially_failed", 1)


def test_ingest_exits_non_zero_when_every_document_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)

    code = main(["ingest", "sample_docs/bad/empty.txt", "--kb", "empty"])

    out = capsys.readouterr().out
    assert code == 1, out
    assert "0 of 1 documents ingested into 'empty'; 1 failed" in out
    assert "failed: sample_docs/bad/empty.txt: " in out
    with metadata_db(settings) as session:
        assert session.scalars(select(KnowledgeBase.name)).all() == ["empty"]
        assert session.scalars(select(Document)).all() == []
