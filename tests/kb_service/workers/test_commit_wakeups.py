"""A commit that leaves work wakes this process's loop for it at once, whatever its poll.

Every loop polls every 120 s here, so anything that happens within seconds was started
by the after-commit wake-up of the request that committed the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key, wait_for_job
from tests.kb_service.meeting_support import (
    API,
    STANDUP,
    create_source,
    event,
    post_event,
    wait_for_meeting,
    wait_until_found,
)

POLL = 120.0
IDLE = 0.5  # time for the loops' first pass to find nothing and start their long wait


@pytest.fixture
def slow_polls(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[TestClient, dict]]:
    settings = make_settings(
        tmp_path,
        worker_poll_seconds=POLL,
        meeting_poll_seconds=POLL,
        webhook_poll_seconds=POLL,
    )
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(1)
    runtime.start_meeting_indexer()
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            headers = {"X-API-Key": new_key(runtime)["key"]}
            time.sleep(IDLE)
            yield client, headers
    finally:
        runtime.close()


def test_queuing_a_job_wakes_the_ingest_workers(slow_polls: tuple[TestClient, dict]) -> None:
    client, headers = slow_polls
    kb = client.post(f"{API}/knowledge-bases", json={"name": "Ops"}, headers=headers)
    for n in range(2):  # the second job arrives while the worker waits after the first
        job = client.post(
            f"{API}/knowledge-bases/{kb.json()['data']['id']}/ingest",
            json={"documents": [{"text": f"Backups run nightly at 0{n}:00 UTC."}]},
            headers=headers,
        ).json()["data"]
        assert wait_for_job(client, job["id"], headers, timeout=30)["status"] == "completed"
        time.sleep(IDLE)


def test_an_imported_meeting_wakes_the_meeting_indexer(
    slow_polls: tuple[TestClient, dict],
) -> None:
    client, headers = slow_polls
    response = client.post(
        f"{API}/meetings",
        json={"title": "Stand-up", "segments": STANDUP["segments"][:4]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    wait_for_meeting(client, response.json()["data"]["id"], headers, timeout=30)


def test_stored_segments_and_the_end_wake_the_meeting_indexer(
    slow_polls: tuple[TestClient, dict],
) -> None:
    client, headers = slow_polls
    source = create_source(client, headers)
    opened = post_event(client, source, event("meeting_status", "m-7", 0, status="live"))
    meeting_id = opened.json()["data"]["meeting_id"]
    time.sleep(IDLE)  # a status change leaves no work: the indexer stays asleep
    segment = STANDUP["segments"][2]
    stored = post_event(client, source, event("segment_finalized", "m-7", 1, **segment))
    assert stored.json()["data"]["result"] == "accepted"
    wait_until_found(client, headers, segment["text"], segment["text"][:20], timeout=10)
    time.sleep(IDLE)
    post_event(client, source, event("meeting_status", "m-7", 2, status="ended"))
    wait_for_meeting(client, meeting_id, headers, timeout=30)
