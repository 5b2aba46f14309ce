"""Live meeting callbacks end to end: signed events → searchable segments → indexed meeting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.db.events import Event
from kb_service.db.meetings import MeetingCallback, MeetingSegment
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from retrieval.index import PointFilter
from tests.conftest import make_settings, new_key, postgres_url_or_skip
from tests.kb_service.meeting_support import (
    API,
    STANDUP,
    create_source,
    event,
    post_event,
    search,
    wait_for_meeting,
    wait_until_found,
)


@pytest.fixture
def indexing(runtime: Runtime) -> Iterator[Runtime]:
    runtime.start_meeting_indexer()
    yield runtime


def test_meeting_source_secret_is_shown_once(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    source = create_source(client, headers)
    assert source["id"].startswith("msrc_") and source["signing_secret"].startswith("ss_")
    assert source["callback_url"].endswith(f"/api/v1/meetings/events/{source['id']}")
    listed = client.get(f"{API}/meeting-sources", headers=headers).json()["data"]
    assert [s["id"] for s in listed] == [source["id"]] and listed[0]["signing_secret"] is None
    own = client.post(
        f"{API}/meeting-sources",
        json={"name": "Own secret", "signing_secret": "a-secret-of-sasha-1234"},
        headers=headers,
    ).json()["data"]
    assert own["signing_secret"] == "a-secret-of-sasha-1234"
    stranger = {"X-API-Key": new_key(client.app.state.runtime, org="globex")["key"]}  # type: ignore[attr-defined]
    assert (
        client.delete(f"{API}/meeting-sources/{source['id']}", headers=stranger).status_code == 404
    )
    assert (
        client.delete(f"{API}/meeting-sources/{source['id']}", headers=headers).status_code == 200
    )
    # A deleted (or never created) source is 404 with nothing stored.
    response = post_event(client, source, event("meeting_status", "m1", 1, status="live"))
    assert response.status_code == 404 and response.json()["meta"]["code"] == "not_found"


def test_live_stream_becomes_searchable_then_indexed_history(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    # As under a heavy callback load: live segments are written lexically only.
    assert indexing.meeting_indexer is not None
    indexing.meeting_indexer.live.embed_max_rate = 0.0
    project = client.post(f"{API}/projects", json={"name": "Payments"}, headers=headers).json()
    source = create_source(client, headers, project["data"]["id"])
    meeting_key = "sasha-meeting-42"
    opened = post_event(
        client,
        source,
        event("meeting_status", meeting_key, 0, status="live", title="Stand-up", platform="meet"),
    )
    assert opened.status_code == 200, opened.text
    meeting_id = opened.json()["data"]["meeting_id"]
    assert (
        post_event(client, source, event("participant_joined", meeting_key, 1, name="Lea")).json()[
            "data"
        ]["result"]
        == "accepted"
    )
    segments = STANDUP["segments"][:6]
    # Out of order: sequence 3 arrives before 2; sequence 4 twice; a caption in between.
    order = [0, 1, 3, 2, 4, 4, 5]
    results = []
    for n in order:
        s = segments[n]
        body = event("segment_finalized", meeting_key, 10 + n, **s)
        results.append(post_event(client, source, body).json()["data"]["result"])
    assert results == ["accepted"] * 5 + ["duplicate", "accepted"]
    caption = post_event(client, source, event("caption_partial", meeting_key, 99, text="Tod"))
    assert caption.json()["data"]["result"] == "ignored"

    started = time.monotonic()
    found = wait_until_found(client, headers, "staging Kafka cluster resized", "Kafka", timeout=10)
    assert time.monotonic() - started < 5
    assert found["meeting_id"] == meeting_id and found["speaker"] == "Tomas Eriksen"
    # Live points are lexical only (no model call on arrival); an answer still cites
    # them, with a similarity computed from their text at query time.
    assert (
        indexing.index.search(
            where=PointFilter.where(meeting_id=meeting_id), limit=10, dense=[1.0] * 384
        )
        == []
    )
    live_answer = search(client, headers, "Who resized the staging Kafka cluster?")
    assert any(
        c.get("meeting_id") == meeting_id and c["speaker"] == "Tomas Eriksen"
        for c in live_answer["citations"]
    ), live_answer
    live = client.get(f"{API}/meetings/{meeting_id}", headers=headers).json()["data"]
    assert live["status"] == "live" and live["segment_count"] == 6
    assert live["participants"][0] == "Lea" and "Tomas Eriksen" in live["participants"]
    transcript = client.get(f"{API}/meetings/{meeting_id}/transcript", headers=headers).json()
    assert [s["text"] for s in transcript["data"]["segments"]] == [s["text"] for s in segments]
    text = transcript["data"]["text"]
    assert text[found["char_start"] : found["char_end"]] == found["text"]

    ended = post_event(client, source, event("meeting_status", meeting_key, 50, status="ended"))
    assert ended.json()["data"]["result"] == "accepted"
    done = wait_for_meeting(client, meeting_id, headers)
    assert done["chunk_count"] >= 1 and done["title"] == "Stand-up" and done["platform"] == "meet"
    data = search(client, headers, "Who can resize the Kafka cluster this morning?")
    cited = [c for c in data["citations"] if c.get("meeting_id") == meeting_id]
    assert cited and all(text[c["char_start"] : c["char_end"]] == c["text"] for c in cited)
    assert any(c["speaker"] == "Priya Natarajan" and c["timestamp"] == 40.1 for c in cited), cited
    history = client.get(f"{API}/projects/{project['data']['id']}/meetings", headers=headers)
    assert [m["id"] for m in history.json()["data"]] == [meeting_id]
    with indexing.db.session() as session:
        events = session.query(Event).filter(Event.type == "meeting.indexed").all()
        assert [e.data["meeting_id"] for e in events] == [meeting_id]
    points = indexing.index.count(PointFilter.where(meeting_id=meeting_id))
    assert points == done["chunk_count"]  # live segment points are gone


def test_slow_live_segments_are_embedded_on_arrival(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    assert indexing.meeting_indexer is not None
    # At most 5 new segments per 10 s are embedded; 4 arrive (3, then a late one).
    indexing.meeting_indexer.live.embed_max_rate = 0.5
    source = create_source(client, headers)
    opened = post_event(client, source, event("meeting_status", "slow", 0, status="live"))
    meeting_id = opened.json()["data"]["meeting_id"]

    def dense_finds_kafka() -> bool:
        found = search(
            client, headers, "the message broker got more capacity", mode="retrieve", search="dense"
        )
        return any(c["meeting_id"] == meeting_id and "Kafka" in c["text"] for c in found["chunks"])

    for n, segment in enumerate(STANDUP["segments"][2:5]):
        post_event(client, source, event("segment_finalized", "slow", 10 + n, **segment))
    wait_until_found(client, headers, "staging Kafka cluster resized", "Kafka", timeout=10)
    assert dense_finds_kafka()
    # A late segment re-lays out (and rewrites) the three after it: one new segment,
    # not four, so they keep their dense vectors.
    late = STANDUP["segments"][1]
    post_event(client, source, event("segment_finalized", "slow", 5, **late))
    wait_until_found(client, headers, "retry logic for the meter collector", "meter", timeout=10)
    assert dense_finds_kafka()


def test_events_after_the_end(client: TestClient, admin: dict, indexing: Runtime) -> None:
    headers = admin["headers"]
    source = create_source(client, headers)
    key = "ended-meeting"
    first, second = STANDUP["segments"][0], STANDUP["segments"][1]
    meeting_id = post_event(client, source, event("segment_finalized", key, 1, **first)).json()[
        "data"
    ]["meeting_id"]
    post_event(client, source, event("meeting_status", key, 10, status="ended"))
    wait_for_meeting(client, meeting_id, headers)

    later = post_event(client, source, event("segment_finalized", key, 11, **second))
    assert later.status_code == 409 and later.json()["meta"]["code"] == "conflict"
    reopen = post_event(client, source, event("meeting_status", key, 12, status="live"))
    assert reopen.status_code == 409
    leaving = post_event(client, source, event("participant_left", key, 13, name="Ines"))
    assert leaving.status_code == 200 and leaving.json()["data"]["result"] == "ignored"
    with indexing.db.session() as session:
        assert session.query(MeetingSegment).filter_by(meeting_id=meeting_id).count() == 1

    # A segment from before the end that arrived late is kept: the meeting is re-indexed.
    late = post_event(client, source, event("segment_finalized", key, 5, **second))
    assert late.json()["data"]["result"] == "accepted"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with indexing.db.session() as session:
            versions = [
                e.data["version"]
                for e in session.query(Event).filter(Event.type == "meeting.indexed").all()
            ]
        if len(versions) == 2:
            break
        time.sleep(0.05)
    assert versions == [2, 3]
    done = wait_for_meeting(client, meeting_id, headers)
    assert done["segment_count"] == 2
    assert indexing.index.count(PointFilter.where(meeting_id=meeting_id).and_not("version", 3)) == 0


def test_meeting_that_ended_without_segments_is_indexed_empty(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    source = create_source(client, headers)
    post_event(client, source, event("meeting_status", "silent", 1, status="live"))
    ended = post_event(client, source, event("meeting_status", "silent", 2, status="error"))
    done = wait_for_meeting(client, ended.json()["data"]["meeting_id"], headers)
    assert done["segment_count"] == 0 and done["chunk_count"] == 0
    transcript = client.get(f"{API}/meetings/{done['id']}/transcript", headers=headers).json()
    assert transcript["data"]["text"] == "" and transcript["data"]["segments"] == []


def _postgres_runtime(tmp_path: Path, embedder: Embedder) -> Runtime:
    settings = make_settings(tmp_path, database_url=postgres_url_or_skip())
    return Runtime.build(settings, embedder=embedder)


def test_concurrent_duplicates_on_postgres_store_one_segment(
    tmp_path: Path, embedder: Embedder
) -> None:
    runtime = _postgres_runtime(tmp_path, embedder)
    runtime.start_meeting_indexer()
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            headers = {"X-API-Key": new_key(runtime)["key"]}
            source = create_source(client, headers)
            segment = STANDUP["segments"][4]

            def send(sequence: int) -> Any:
                body = event("segment_finalized", "pg-meeting", sequence, **segment)
                return post_event(client, source, body).json()["data"]

            with ThreadPoolExecutor(8) as pool:
                outcomes = list(pool.map(send, [7] * 8 + list(range(20, 28))))
            assert sorted(o["result"] for o in outcomes[:8]) == ["accepted"] + ["duplicate"] * 7
            assert len({o["meeting_id"] for o in outcomes}) == 1
            meeting_id = outcomes[0]["meeting_id"]
            with runtime.db.session() as session:
                assert session.query(MeetingSegment).filter_by(meeting_id=meeting_id).count() == 9
                assert session.query(MeetingCallback).count() == 9
            wait_until_found(client, headers, "staging Kafka cluster resized", "Kafka", timeout=15)
            post_event(client, source, event("meeting_status", "pg-meeting", 99, status="ended"))
            done = wait_for_meeting(client, meeting_id, headers)
            assert done["segment_count"] == 9 and done["chunk_count"] >= 1
    finally:
        runtime.close()
