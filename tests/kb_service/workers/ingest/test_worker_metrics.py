"""A standalone `kb-service worker` serves its own metrics (KB_WORKER_METRICS_PORT).

The file is parsed in one of the worker's parser processes; its parse and chunk
durations still reach the worker's registry (they travel back with the document).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS, make_settings
from tests.kb_service.workers.ingest.process_support import free_port, start, submit


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(url, timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_worker_exposes_its_ingest_metrics_on_its_own_port(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path)
    job = submit(settings, embedder, [("runbook.md", (SAMPLE_DOCS / "runbook.md").read_bytes())])
    port = free_port()
    env = job.env(KB_WORKER_METRICS_PORT=str(port), KB_LOG_FORMAT="json")
    log = tmp_path / "worker.log"
    worker = start(["worker", "--threads", "1"], env, log)
    try:
        deadline = time.monotonic() + 120
        while job.job().status != "completed":
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        samples = _scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    assert value("kb_ingest_documents_total", outcome="indexed", source_type="markdown") == 1
    assert value("kb_ingest_chunks_total", outcome="indexed", source_type="markdown") == (
        job.job().chunks_indexed
    )
    for stage in ("parse", "chunk", "index", "commit"):
        assert value("kb_ingest_stage_duration_seconds_count", stage=stage) == 1, stage
    assert value("kb_ingest_stage_duration_seconds_sum", stage="parse") > 0
    assert value("kb_ingest_jobs_finished_total", status="completed") == 1
    assert value("kb_embedding_batch_size_count", kind="documents") >= 1
    # the queue's gauges are the API's to serve, read from SQL: not repeated per worker
    assert not any(name == "kb_ingest_queue_depth" for name, _ in samples)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    statuses = [r["status"] for r in lines if r.get("event") == "job_transition"]
    assert statuses == ["running", "completed"]
