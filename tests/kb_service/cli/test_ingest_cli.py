"""`kb-service ingest`, run in-process against a real data directory."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from kb_service.cli import main
from kb_service.db.content import Document, KnowledgeBase
from kb_service.db.jobs import IngestJob
from kb_service.runtime import Runtime
from kb_service.workers.ingest.queue import JobQueue
from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.cli.cli_support import IngestRun, documents_of, metadata_db, use_data_dir


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
