"""Bad callbacks and bad transcripts: a clear error and nothing stored, or a documented no-op."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.db.meetings import Meeting, MeetingCallback, MeetingSegment
from kb_service.runtime import Runtime
from kb_service.services.meeting_callbacks import sign
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key
from tests.kb_service.meeting_support import API, STANDUP, create_source, event, post_event


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _stored(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.db.session() as session:
        return (
            session.query(Meeting).count(),
            session.query(MeetingSegment).count(),
            session.query(MeetingCallback).count(),
        )


def test_bad_signatures_are_401_and_store_nothing(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    source = create_source(client, admin["headers"])
    body = json.dumps(event("segment_finalized", "m", 1, **STANDUP["segments"][0])).encode()
    url = f"{API}/meetings/events/{source['id']}"
    for headers in (
        {},
        {"X-Sasha-Signature": "sha256=" + "0" * 64},
        {"X-Sasha-Signature": "garbage"},
    ):
        response = client.post(url, content=body, headers=headers)
        assert response.status_code == 401 and response.json()["meta"]["code"] == "unauthorized"
    wrong_secret = post_event(client, source, body, secret="ss_not-the-secret")
    assert wrong_secret.status_code == 401
    # Signed over other bytes (a re-serialised body) does not verify either.
    tampered = body.replace(b"Morning", b"Evening")
    response = client.post(
        url,
        content=tampered,
        headers={"X-Sasha-Signature": sign(source["signing_secret"], body)},
    )
    assert response.status_code == 401
    # An API key is no substitute for the signature.
    response = client.post(url, content=body, headers=admin["headers"])
    assert response.status_code == 401
    assert _stored(runtime) == (0, 0, 0)


def test_malformed_events_are_422_and_store_nothing(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    source = create_source(client, admin["headers"])
    segment = STANDUP["segments"][0]
    bad: list[bytes | dict] = [
        b"{not json",
        b"[]",
        {"type": "segment_finalized", "sequence": 1, "payload": segment},  # no meetingId
        {**event("segment_finalized", "m", 1, **segment), "sequence": -1},
        {**event("segment_finalized", "m", 1, **segment), "sequence": "one"},
        event("segment_finalized", "m", 1, speaker="Ines", timestamp=1.0),  # no text
        event("segment_finalized", "m", 1, speaker="Ines", text="   ", timestamp=1.0),
        event("segment_finalized", "m", 1, speaker="Ines", text="Hi", timestamp=-3),
        event("segment_finalized", "m", 1, speaker="Ines", text="Hi", timestamp=float("inf")),
        event("meeting_status", "m", 1, status="paused"),
        event("participant_joined", "m", 1),
        event("reaction_added", "m", 1, emoji="+1"),
    ]
    for body in bad:
        response = post_event(client, source, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["meta"]["code"] == "validation_error"
    assert _stored(runtime) == (0, 0, 0)


def test_gigantic_segments_and_bodies_are_413(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    source = create_source(client, admin["headers"])
    huge = event("segment_finalized", "m", 1, speaker="Ines", text="word " * 5000, timestamp=1.0)
    response = post_event(client, source, huge)
    assert response.status_code == 413 and response.json()["meta"]["code"] == "payload_too_large"
    giant = event("segment_finalized", "m", 1, speaker="Ines", text="x" * 300_000, timestamp=1.0)
    assert post_event(client, source, giant).status_code == 413
    assert _stored(runtime) == (0, 0, 0)
    # Just under the limit is accepted (and split to fit the model when indexed).
    fits = event(
        "segment_finalized", "m", 1, speaker="Ines", text="Long words. " * 1600, timestamp=1.0
    )
    assert post_event(client, source, fits).status_code == 200


def test_transcript_import_errors(client: TestClient, admin: dict, runtime: Runtime) -> None:
    headers = admin["headers"]
    empty = client.post(
        f"{API}/meetings", json={"title": "Nothing", "segments": []}, headers=headers
    )
    assert empty.status_code == 422 and empty.json()["meta"]["errors"][0]["field"] == "segments"
    blank = {"speaker": "Ines", "text": " \n ", "timestamp": 1}
    response = client.post(
        f"{API}/meetings", json={"title": "B", "segments": [blank]}, headers=headers
    )
    assert response.status_code == 422
    giant = {"speaker": "Ines", "text": "a" * 20_001, "timestamp": 1}
    response = client.post(
        f"{API}/meetings", json={"title": "G", "segments": [giant]}, headers=headers
    )
    assert response.status_code == 413
    infinite = {"speaker": "Ines", "text": "Hi", "timestamp": float("inf")}
    response = client.post(
        f"{API}/meetings",
        content=json.dumps({"title": "I", "segments": [infinite]}),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    missing = client.post(
        f"{API}/meetings", json={**STANDUP, "project_id": "prj_nope"}, headers=headers
    )
    assert missing.status_code == 404
    assert _stored(runtime) == (0, 0, 0)
    reader = {"X-API-Key": new_key(runtime, role="reader")["key"]}
    assert client.post(f"{API}/meetings", json=STANDUP, headers=reader).status_code == 403
    assert client.get(f"{API}/meetings/mtg_unknown", headers=headers).status_code == 404


def test_stale_or_undated_events_and_uppercase_signatures_are_401_and_store_nothing(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    source = create_source(client, admin["headers"])
    segment = STANDUP["segments"][0]
    now = time.time()
    fresh = event("segment_finalized", "m", 1, **segment)
    refused: list[dict] = [
        {**fresh, "timestamp": 978307200},  # 2001-01-01, signed correctly: a replay
        {**fresh, "timestamp": 978307200000},  # the same in milliseconds
        {**fresh, "timestamp": "2001-01-01T00:00:00Z"},
        {**fresh, "timestamp": now - 301},
        {**fresh, "timestamp": now + 301},
        {key: value for key, value in fresh.items() if key != "timestamp"},
        {**fresh, "timestamp": None},
    ]
    for body in refused:
        response = post_event(client, source, body)
        assert response.status_code == 401, (body, response.text)
        envelope = response.json()
        assert envelope["meta"]["code"] == "unauthorized"
        assert "timestamp" in envelope["message"], envelope
    raw = json.dumps(fresh).encode()
    upper = "sha256=" + sign(source["signing_secret"], raw).removeprefix("sha256=").upper()
    response = client.post(
        f"{API}/meetings/events/{source['id']}", content=raw, headers={"X-Sasha-Signature": upper}
    )
    assert response.status_code == 401 and response.json()["meta"]["code"] == "unauthorized"
    assert _stored(runtime) == (0, 0, 0)
    # Within the window, in any unit the code reads, the event is accepted.
    for sequence, stamp in enumerate((now - 290, now * 1000, iso_now()), start=1):
        body = {**event("segment_finalized", "m", sequence, **segment), "timestamp": stamp}
        response = post_event(client, source, body)
        assert response.json()["data"]["result"] == "accepted", response.text


def test_a_zero_tolerance_accepts_any_timestamp(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path, meeting_callback_tolerance_seconds=0)
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            source = create_source(client, {"X-API-Key": new_key(runtime)["key"]})
            body = {**event("meeting_status", "m", 1, status="live"), "timestamp": 978307200}
            assert post_event(client, source, body).json()["data"]["result"] == "accepted"
    finally:
        runtime.close()
