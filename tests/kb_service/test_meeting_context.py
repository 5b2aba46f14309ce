"""Meeting chunks are searched by what their meeting is called, cited by their own text."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ingest.transcripts import SegmentSpan
from kb_service.db.meetings import Meeting
from kb_service.runtime import Runtime
from kb_service.services.reindex import requeue_meetings
from kb_service.statuses import MeetingStatus
from kb_service.workers.meetings.points import live_chunks
from retrieval.index import PointFilter
from tests.kb_service.meeting_support import API, search, wait_for_meeting

SEGMENTS = [
    {"speaker": "Ana", "text": "We agreed to move the cut-over to Thursday night.", "timestamp": 4},
    {"speaker": "Bo", "text": "I will draft the customer notice before then.", "timestamp": 12},
]

# Says "ledger migration" in its text, which the first meeting only says in its title.
DISTRACTOR = [
    {
        "speaker": "Cy",
        "text": "The ledger migration dry run finished without errors.",
        "timestamp": 3,
    },
    {"speaker": "Di", "text": "Good, then the ledger migration can go ahead.", "timestamp": 9},
]


@pytest.fixture
def indexing(runtime: Runtime) -> Iterator[Runtime]:
    runtime.start_meeting_indexer()
    yield runtime


def test_a_meeting_is_found_by_a_word_only_its_title_holds(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    other = {"title": "Weekly ops sync", "segments": DISTRACTOR}
    body = {"title": "Zephyrine ledger migration retro", "segments": SEGMENTS}
    ids = []
    for meeting_body in (other, body):
        response = client.post(f"{API}/meetings", json=meeting_body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["data"]["id"])
    wait_for_meeting(client, ids[0], headers)
    meeting = wait_for_meeting(client, ids[1], headers)
    text = client.get(f"{API}/meetings/{meeting['id']}/transcript", headers=headers).json()
    assert "Zephyrine" not in text["data"]["text"]

    data = search(client, headers, "Zephyrine ledger migration", mode="retrieve", top_k=5)
    assert data["chunks"][0]["meeting_id"] == meeting["id"], data
    hits = [c for c in data["chunks"] if c.get("meeting_id") == meeting["id"]]
    for chunk in hits:  # the title is embedded, never part of the cited span
        assert chunk["text"] == text["data"]["text"][chunk["char_start"] : chunk["char_end"]]
        assert "Zephyrine" not in chunk["text"]


def test_live_pieces_embed_the_meeting_title_and_the_speaker() -> None:
    span = SegmentSpan(0, "Ana", 4.0, 10, 30, 10)
    (chunk,) = live_chunks([span], ["Cut-over moves to Thursday."], [[(0, 20)]], "Ops sync")
    assert chunk.draft.text == "Cut-over moves to Th"
    assert chunk.draft.embedding_text == "Ops sync > Ana\nCut-over moves to Th"
    assert (chunk.draft.char_start, chunk.draft.char_end) == (10, 30)


def test_reindex_meetings_rebuilds_an_indexed_meeting_into_a_new_version(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    response = client.post(
        f"{API}/meetings", json={"title": "Ops sync", "segments": SEGMENTS}, headers=headers
    )
    first = wait_for_meeting(client, response.json()["data"]["id"], headers)
    with indexing.db.session() as session:
        stored = session.get(Meeting, first["id"])
        assert stored is not None
        org_id, version = stored.organization_id, stored.index_version

    assert requeue_meetings(indexing.db, organization_id=org_id) == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with indexing.db.session() as session:
            meeting = session.get(Meeting, first["id"])
            assert meeting is not None
            if meeting.status == MeetingStatus.INDEXED and meeting.index_version > version:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("the meeting was not re-indexed")
    live = indexing.index.count(PointFilter.where(meeting_id=first["id"]))
    assert live == meeting.chunk_count == first["chunk_count"]
    data = search(client, headers, "customer notice", mode="retrieve", top_k=3)
    assert data["chunks"][0]["meeting_id"] == first["id"]
