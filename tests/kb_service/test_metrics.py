"""`/metrics` over the real app: the families move during an ingest, a query, a webhook
delivery, meeting callbacks and a rate-limited request; the queue's gauges come from SQL
at scrape time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS, make_settings, new_key, wait_for_job
from tests.kb_service.live_servers import webhook_receiver
from tests.kb_service.meeting_support import (
    create_source,
    event,
    post_event,
    wait_for_meeting,
    wait_until_found,
)
from tests.kb_service.webhook_support import make_hook

API = "/api/v1"
QUERY_ROUTE = "/api/v1/knowledge-bases/{kb_id}/query"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def kb(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(f"{API}/knowledge-bases", json={"name": "ops"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_ingest_query_and_webhook_delivery_move_their_families(
    runtime: Runtime, client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    runtime.start_webhook_dispatcher()
    with webhook_receiver() as receiver:
        make_hook(client, headers, receiver.url, ["kb.ingest.completed"])
        kb_id = kb(client, headers)
        before = scrape(client)
        files = [
            ("files", ("runbook.md", (SAMPLE_DOCS / "runbook.md").read_bytes())),
            ("files", ("notes.txt", (SAMPLE_DOCS / "notes.txt").read_bytes())),
        ]
        job = client.post(f"{API}/knowledge-bases/{kb_id}/ingest", files=files, headers=headers)
        assert job.status_code == 202, job.text
        done = wait_for_job(client, job.json()["data"]["id"], headers)
        assert done["status"] == "completed", done
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.received, "the webhook was not delivered"
        query = client.post(
            f"{API}/knowledge-bases/{kb_id}/query",
            json={"query": "How do I roll back a deploy?"},
            headers=headers,
        )
        assert query.status_code == 200, query.text
        after = scrape(client)

    chunks = done["progress"]["chunks_indexed"]
    assert chunks > 0
    indexed = {
        source: moved(
            before, after, "kb_ingest_documents_total", outcome="indexed", source_type=source
        )
        for source in ("markdown", "text")
    }
    assert indexed == {"markdown": 1, "text": 1}, indexed
    chunk_counts = sum(
        moved(before, after, "kb_ingest_chunks_total", outcome="indexed", source_type=source)
        for source in ("markdown", "text")
    )
    assert chunk_counts == chunks
    for stage in ("parse", "chunk", "index", "commit"):
        count = moved(before, after, "kb_ingest_stage_duration_seconds_count", stage=stage)
        assert count == 2, (stage, count)  # per document
    assert moved(before, after, "kb_ingest_stage_duration_seconds_count", stage="embed") >= 1
    assert moved(before, after, "kb_ingest_stage_duration_seconds_sum", stage="parse") > 0
    assert moved(before, after, "kb_ingest_jobs_finished_total", status="completed") == 1
    assert (
        moved(before, after, "kb_embedding_batch_size_sum", kind="documents") >= chunks
    )  # every chunk was embedded
    assert moved(before, after, "kb_embedding_duration_seconds_count", kind="query") == 1

    for stage in ("scope", "embed", "index", "rerank", "liveness", "answer", "serialize"):
        count = moved(before, after, "kb_query_stage_duration_seconds_count", stage=stage)
        assert count == 1, (stage, count)
    assert moved(before, after, "kb_query_stage_duration_seconds_sum", stage="embed") > 0
    http = {"route": QUERY_ROUTE, "method": "POST", "status": "200"}
    assert moved(before, after, "kb_http_request_duration_seconds_count", **http) == 1
    assert not any(
        name.startswith("kb_http") and kb_id in str(labels) for name, labels in after
    )  # templates, never raw paths

    assert moved(before, after, "kb_webhook_deliveries_total", outcome="succeeded") == 1
    assert (
        moved(before, after, "kb_webhook_delivery_duration_seconds_count", outcome="succeeded") == 1
    )
    assert value(after, "kb_webhook_deliveries_pending") == 0
    assert value(after, "kb_webhook_deliveries_dead") == 0
    assert value(after, "kb_ingest_jobs", status="completed") >= 1
    assert value(after, "kb_ingest_queue_depth") == 0
    assert value(after, "kb_http_requests_in_flight") == 1  # the scrape itself


@pytest.fixture
def idle_runtime(tmp_path: Path, embedder: Embedder) -> Iterator[Runtime]:
    """No ingest workers: submitted jobs stay queued."""
    settings = make_settings(tmp_path, rate_limit_burst=3, rate_limit_per_second=0.01)
    rt = Runtime.build(settings, embedder=embedder)
    yield rt
    rt.close()


def test_queue_gauges_are_read_from_sql_at_scrape_time(idle_runtime: Runtime) -> None:
    with TestClient(create_app(runtime=idle_runtime)) as client:
        headers = {"X-API-Key": new_key(idle_runtime)["key"]}
        kb_id = kb(client, headers)
        body = {"documents": [{"text": "The pager rota changes on Mondays."}]}
        first = client.post(f"{API}/knowledge-bases/{kb_id}/ingest", json=body, headers=headers)
        assert first.status_code == 202, first.text
        time.sleep(0.3)
        samples = scrape(client)
    assert value(samples, "kb_ingest_queue_depth") == 1
    assert value(samples, "kb_ingest_jobs", status="queued") == 1
    assert 0.3 <= value(samples, "kb_ingest_queue_oldest_age_seconds") < 60


def test_a_rate_limited_request_is_counted(idle_runtime: Runtime) -> None:
    with TestClient(create_app(runtime=idle_runtime)) as client:
        headers = {"X-API-Key": new_key(idle_runtime)["key"]}
        before = scrape(client)
        statuses = [
            client.get(f"{API}/knowledge-bases", headers=headers).status_code for _ in range(4)
        ]
        after = scrape(client)
    assert statuses == [200, 200, 200, 429]
    assert moved(before, after, "kb_rate_limited_requests_total") == 1
    route = {"route": "/api/v1/knowledge-bases", "method": "GET"}
    assert (
        moved(before, after, "kb_http_request_duration_seconds_count", **route, status="429") == 1
    )
    assert (
        moved(before, after, "kb_http_request_duration_seconds_count", **route, status="200") == 3
    )


def test_metrics_can_be_disabled(tmp_path: Path, embedder: Embedder) -> None:
    rt = Runtime.build(make_settings(tmp_path, metrics_enabled=False), embedder=embedder)
    try:
        with TestClient(create_app(runtime=rt)) as client:
            response = client.get("/metrics")
    finally:
        rt.close()
    assert response.status_code == 404
    assert response.json()["meta"]["code"] == "not_found"


def test_meeting_callbacks_and_time_to_searchable(
    runtime: Runtime, client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    runtime.start_meeting_indexer()
    source = create_source(client, headers)
    before = scrape(client)
    said = "The canary rollout of the billing service starts on Thursday."
    bodies = [
        event("meeting_status", "m-1", 1, status="live"),
        event("segment_finalized", "m-1", 2, speaker="Ada", text=said, timestamp=3.0),
        event("segment_finalized", "m-1", 2, speaker="Ada", text=said, timestamp=3.0),
    ]
    assert [post_event(client, source, b).status_code for b in bodies] == [200, 200, 200]
    assert post_event(client, source, bodies[0], secret="ss_wrong").status_code == 401
    wait_until_found(client, headers, "canary rollout billing", "canary rollout")
    meeting_id = post_event(client, source, event("meeting_status", "m-1", 3, status="ended"))
    wait_for_meeting(client, meeting_id.json()["data"]["meeting_id"], headers)
    after = scrape(client)

    assert moved(before, after, "kb_meeting_callbacks_total", outcome="accepted") == 3
    assert moved(before, after, "kb_meeting_callbacks_total", outcome="duplicate") == 1
    assert moved(before, after, "kb_meeting_callbacks_total", outcome="unauthorized") == 1
    live = moved(before, after, "kb_meeting_time_to_searchable_seconds_count", phase="live")
    assert live == 1  # one segment, made searchable once
    assert moved(before, after, "kb_meeting_time_to_searchable_seconds_count", phase="final") == 1
    assert moved(before, after, "kb_meeting_time_to_searchable_seconds_sum", phase="live") > 0
