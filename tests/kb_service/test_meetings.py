"""Imported transcripts: indexed by speaker turns, cited by speaker and timestamp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.db.events import Event
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from retrieval.index import PointFilter
from tests.conftest import make_settings, new_key, wait_for_job
from tests.kb_service.ingest_support import create_kb
from tests.kb_service.meeting_support import API, STANDUP, search, wait_for_meeting


@pytest.fixture
def indexing(runtime: Runtime) -> Iterator[Runtime]:
    runtime.start_meeting_indexer()
    yield runtime


def import_standup(
    client: TestClient, headers: dict[str, str], project_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {**STANDUP, **extra}
    if project_id:
        body["project_id"] = project_id
    response = client.post(f"{API}/meetings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_imported_transcript_is_indexed_and_cited_by_speaker(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    project = client.post(f"{API}/projects", json={"name": "Payments"}, headers=headers).json()
    meeting = import_standup(client, headers, project["data"]["id"])
    assert meeting["id"].startswith("mtg_") and meeting["status"] == "ended"
    assert meeting["segment_count"] == len(STANDUP["segments"])
    assert meeting["participants"][:2] == ["Ines Carvalho", "Tomas Eriksen"]

    done = wait_for_meeting(client, meeting["id"], headers)
    assert done["chunk_count"] >= 1 and done["indexed_at"]
    transcript = client.get(f"{API}/meetings/{meeting['id']}/transcript", headers=headers).json()
    text = transcript["data"]["text"]
    assert text.startswith("Ines Carvalho: Morning everyone")
    for segment, original in zip(transcript["data"]["segments"], STANDUP["segments"], strict=True):
        assert (
            segment["text"] == original["text"] == text[segment["char_start"] : segment["char_end"]]
        )
        assert segment["speaker"] == original["speaker"]

    data = search(client, headers, "Who will resize the staging Kafka cluster?")
    meeting_chunks = [c for c in data["chunks"] if c.get("meeting_id") == meeting["id"]]
    assert meeting_chunks, data
    for chunk in meeting_chunks:
        assert chunk["source_type"] == "meeting" and chunk["title"] == STANDUP["title"]
        assert text[chunk["char_start"] : chunk["char_end"]] == chunk["text"]
    cited = [c for c in data["citations"] if c.get("meeting_id") == meeting["id"]]
    assert cited, data["answer"]
    by_text = {s["text"]: s for s in STANDUP["segments"]}
    for citation in cited:
        assert text[citation["char_start"] : citation["char_end"]] == citation["text"]
        sentence = citation["text"].split(": ", 1)[-1]
        owner = next(s for t, s in by_text.items() if sentence in t)
        assert (citation["speaker"], citation["timestamp"]) == (
            owner["speaker"],
            owner["timestamp"],
        )
        assert "segments" not in citation

    with indexing.db.session() as session:
        events = session.query(Event).filter(Event.type == "meeting.indexed").all()
        assert [e.data["meeting_id"] for e in events] == [meeting["id"]]
        assert events[0].data["chunk_count"] == done["chunk_count"]
    # Only the live version's points remain.
    assert indexing.index.count(PointFilter.where(meeting_id=meeting["id"])) == done["chunk_count"]


def test_search_mixes_meetings_and_documents_and_scopes_by_project(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    payments = client.post(f"{API}/projects", json={"name": "Payments"}, headers=headers).json()
    other = client.post(f"{API}/projects", json={"name": "Other"}, headers=headers).json()
    payments_id, other_id = payments["data"]["id"], other["data"]["id"]
    kb = create_kb(client, headers, project_id=payments_id)
    job = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={
            "documents": [
                {
                    "title": "Kafka runbook",
                    "text": "Resizing the staging Kafka cluster takes a two line Terraform "
                    "change in the platform repository, reviewed by the platform team.",
                }
            ]
        },
        headers=headers,
    ).json()["data"]
    assert wait_for_job(client, job["id"], headers)["status"] == "completed"
    meeting = import_standup(client, headers, payments_id)
    wait_for_meeting(client, meeting["id"], headers)

    query = "resize the staging Kafka cluster with Terraform"
    mixed = search(client, headers, query, mode="retrieve", top_k=5)
    kinds = {c["source_type"] for c in mixed["chunks"]}
    assert {"meeting", "json"} <= kinds, mixed["chunks"]
    scores = [c["score"] for c in mixed["chunks"]]
    assert scores == sorted(scores, reverse=True)

    in_project = search(
        client, headers, query, mode="retrieve", scope={"project_ids": [payments_id]}
    )
    assert {"meeting", "json"} <= {c["source_type"] for c in in_project["chunks"]}
    no_meetings = search(
        client,
        headers,
        query,
        mode="retrieve",
        scope={"project_ids": [payments_id], "include_meetings": False},
    )
    assert no_meetings["chunks"] and all(
        c["source_type"] != "meeting" for c in no_meetings["chunks"]
    )
    elsewhere = search(client, headers, query, mode="retrieve", scope={"project_ids": [other_id]})
    assert elsewhere["chunks"] == []

    # Another organization sees nothing of it and gets 404 for the meeting.
    stranger = {"X-API-Key": new_key(indexing, org="globex")["key"]}
    assert search(client, stranger, query, mode="retrieve")["chunks"] == []
    assert client.get(f"{API}/meetings/{meeting['id']}", headers=stranger).status_code == 404
    transcript = client.get(f"{API}/meetings/{meeting['id']}/transcript", headers=stranger)
    assert transcript.status_code == 404


def test_project_lists_its_meetings_newest_first(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    project = client.post(f"{API}/projects", json={"name": "History"}, headers=headers).json()
    project_id = project["data"]["id"]
    ids = [
        import_standup(client, headers, project_id, title=f"Stand-up {n}")["id"] for n in range(3)
    ]
    import_standup(client, headers)  # no project: not listed
    first = client.get(f"{API}/projects/{project_id}/meetings?limit=2", headers=headers).json()
    assert [m["id"] for m in first["data"]] == ids[::-1][:2]
    listed = first["data"][0]
    assert listed["title"] == "Stand-up 2" and listed["platform"] == "zoom"
    assert listed["started_at"].startswith("2026-03-02T09:30:00")
    assert listed["segment_count"] == len(STANDUP["segments"]) and listed["participants"]
    assert listed["status"] in ("ended", "indexed")
    rest = client.get(
        f"{API}/projects/{project_id}/meetings?limit=2&cursor={first['meta']['next_cursor']}",
        headers=headers,
    ).json()
    assert [m["id"] for m in rest["data"]] == ids[:1] and rest["meta"]["next_cursor"] is None


def test_the_organization_lists_all_its_meetings_newest_first(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    project = client.post(f"{API}/projects", json={"name": "Ops"}, headers=headers).json()
    ids = [
        import_standup(client, headers, project["data"]["id"], title="In a project")["id"],
        import_standup(client, headers, title="No project")["id"],
        import_standup(client, headers, title="Latest")["id"],
    ]
    first = client.get(f"{API}/meetings?limit=2", headers=headers).json()
    assert [m["id"] for m in first["data"]] == ids[::-1][:2]
    rest = client.get(
        f"{API}/meetings?limit=2&cursor={first['meta']['next_cursor']}", headers=headers
    ).json()
    assert [m["id"] for m in rest["data"]] == ids[:1] and rest["meta"]["next_cursor"] is None
    assert rest["data"][0]["project_id"] == project["data"]["id"]
    stranger = {"X-API-Key": new_key(runtime, org="globex", role="reader")["key"]}
    assert client.get(f"{API}/meetings", headers=stranger).json()["data"] == []
    assert client.get(f"{API}/meetings").status_code == 401


def test_import_waiting_at_shutdown_is_indexed_after_restart(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Ended meetings waiting in SQL are indexed by the next process that starts."""
    settings = make_settings(tmp_path)
    first = Runtime.build(settings, embedder=embedder)
    with TestClient(create_app(runtime=first)) as client:
        key = new_key(first)
        meeting = import_standup(client, {"X-API-Key": key["key"]})
    first.close()  # no indexer ran: the meeting is still `ended`
    second = Runtime.build(settings, embedder=embedder)
    second.start_meeting_indexer()
    try:
        with TestClient(create_app(runtime=second)) as client:
            done = wait_for_meeting(client, meeting["id"], {"X-API-Key": key["key"]})
            assert done["chunk_count"] >= 1
    finally:
        second.close()
