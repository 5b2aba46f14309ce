"""A document whose parse kills its worker, twice, is failed on the third claim, not parsed again.

Real `kb-service worker` processes on real SQLite, SIGKILLed while they parse the
document: each parse is counted in the database before it starts, so the third
worker fails that one document (its other documents are indexed) instead of
re-claiming it forever.
"""

from __future__ import annotations

import signal
from pathlib import Path

from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.hostile_docs import docx_with_paragraphs
from tests.kb_service.live_servers import wait_until
from tests.kb_service.workers.ingest.process_support import start, submit

SAMPLES = Path(__file__).resolve().parents[4] / "sample_docs"
LEASE = 3.0


def test_a_document_that_kills_its_worker_is_failed_after_two_parses(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path, job_lease_seconds=LEASE)
    deadly = docx_with_paragraphs(100_000)  # parses for minutes: always killed mid-parse
    job = submit(
        settings,
        embedder,
        [("deadly.docx", deadly), ("notes.txt", (SAMPLES / "notes.txt").read_bytes())],
    )
    log = tmp_path / "workers.log"
    for attempt in (1, 2):
        worker = start(["worker", "--threads", "1"], job.env(), log)
        try:
            wait_until(
                lambda n=attempt: job.items()[0].parse_attempts == n,  # type: ignore[misc]
                240,
                f"parse {attempt} to start",
            )
        finally:
            worker.send_signal(signal.SIGKILL)  # the parse "kills the worker"
            worker.wait(30)
        assert job.job().status == "running"  # its lease will expire

    last = start(["worker", "--threads", "1"], job.env(), log)
    try:
        wait_until(lambda: job.job().status == "partially_failed", 240, "the job to finish")
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(30)
    deadly_item, notes = job.items()
    assert deadly_item.status == "failed"
    assert deadly_item.parse_attempts == 2  # not parsed a third time
    assert deadly_item.error == (
        "The document was not parsed again: its worker stopped during each of its 2 parses."
    )
    assert notes.status == "indexed"
    assert job.job().attempts == 3
    job.db.dispose()
