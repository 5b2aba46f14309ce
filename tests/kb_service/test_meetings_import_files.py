"""`POST /meetings/import`: transcript files (WebVTT, SubRip, plain, JSON) become meetings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.runtime import Runtime
from tests.conftest import SAMPLE_DOCS, new_key
from tests.kb_service.meeting_support import API, STANDUP, search, wait_for_meeting


@pytest.fixture
def indexing(runtime: Runtime) -> Iterator[Runtime]:
    runtime.start_meeting_indexer()
    yield runtime


def import_file(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    content: bytes | None = None,
    **form: str,
) -> Any:
    data = content if content is not None else (SAMPLE_DOCS / name).read_bytes()
    return client.post(
        f"{API}/meetings/import", files={"file": (name, data)}, data=form, headers=headers
    )


def transcript(client: TestClient, headers: dict[str, str], meeting_id: str) -> dict[str, Any]:
    return dict(
        client.get(f"{API}/meetings/{meeting_id}/transcript", headers=headers).json()["data"]
    )


def test_a_webvtt_file_becomes_a_meeting_cited_by_speaker_and_cue_time(
    client: TestClient, admin: dict, indexing: Runtime
) -> None:
    headers = admin["headers"]
    project = client.post(f"{API}/projects", json={"name": "Data"}, headers=headers).json()["data"]
    response = import_file(
        client,
        headers,
        "retro-2026-02-27.vtt",
        title="Data platform retro",
        project_id=project["id"],
        platform="teams",
    )
    assert response.status_code == 201, response.text
    meeting = response.json()["data"]
    assert (meeting["title"], meeting["platform"], meeting["project_id"]) == (
        "Data platform retro",
        "teams",
        project["id"],
    )
    assert meeting["segment_count"] == 4 and meeting["participants"] == ["Kadri Tamm", "Priya Nair"]
    wait_for_meeting(client, meeting["id"], headers)
    text = transcript(client, headers, meeting["id"])
    assert [s["timestamp"] for s in text["segments"]] == [4.12, 10.0, 17.2, 24.5]
    assert text["text"].startswith("Kadri Tamm: Welcome to the data platform retro")

    data = search(client, headers, "What is the new Kafka consumer lag threshold?")
    cited = [c for c in data["citations"] if c.get("meeting_id") == meeting["id"]]
    assert cited, data
    for citation in cited:
        assert text["text"][citation["char_start"] : citation["char_end"]] == citation["text"]
    lag = next(c for c in cited if "fifteen minutes" in c["text"])
    assert (lag["speaker"], lag["timestamp"]) == ("Priya Nair", 17.2)


@pytest.mark.parametrize(
    ("name", "title", "platform", "first"),
    [
        ("design-review-2026-02-24.srt", "design-review-2026-02-24", None, ("Ines Carvalho", 2.0)),
        ("support-sync-2026-02-25.txt", "support-sync-2026-02-25", None, ("Hannah Pike", 5.0)),
        ("standup-2026-03-02.json", STANDUP["title"], "zoom", ("Ines Carvalho", 3.2)),
    ],
)
def test_subrip_plain_and_json_transcripts(
    client: TestClient, admin: dict, name: str, title: str, platform: str | None, first: tuple
) -> None:
    headers = admin["headers"]
    response = import_file(client, headers, name)
    assert response.status_code == 201, response.text
    meeting = response.json()["data"]
    assert (meeting["title"], meeting["platform"], meeting["status"]) == (title, platform, "ended")
    segments = transcript(client, headers, meeting["id"])["segments"]
    assert (segments[0]["speaker"], segments[0]["timestamp"]) == first


def test_json_import_accepts_clock_timestamps(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    body = {
        "title": "Clock times",
        "segments": [
            {"speaker": "Ana", "text": "First.", "timestamp": "00:00:03.250"},
            {"speaker": "Ben", "text": "Second.", "timestamp": "01:02:03"},
            {"speaker": "Ana", "text": "Third.", "timestamp": 3800.5},
        ],
    }
    response = client.post(f"{API}/meetings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    segments = transcript(client, headers, response.json()["data"]["id"])["segments"]
    assert [s["timestamp"] for s in segments] == [3.25, 3723.0, 3800.5]
    body["segments"][1]["timestamp"] = "01:99:03"
    refused = client.post(f"{API}/meetings", json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["meta"]["code"] == "validation_error"
    assert refused.json()["meta"]["errors"][0]["field"] == "segments.1.timestamp"


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.vtt", b"WEBVTT\n\nNOTE nothing\n", "empty.vtt holds no transcript lines."),
        ("bad.srt", b"1\n00:00:zz,000 --> 00:00:02,000\nAna: hi\n", "'00:00:zz,000'"),
        ("binary.txt", b"\x00\x01\x02\x03" * 50, "binary data"),
        ("broken.json", b'{"segments": [', "not valid JSON"),
        ("shape.json", b'{"title": "x"}', "a 'segments' array"),
        (
            "stamp.json",
            b'{"segments": [{"speaker": "A", "text": "t", "timestamp": "ten"}]}',
            "HH:MM:SS",
        ),
        ("speaker.json", b'{"segments": [{"text": "t", "timestamp": 1}]}', "'speaker'"),
        ("none.json", b'{"segments": []}', "at least one segment"),
    ],
)
def test_unreadable_transcripts_are_a_422_with_a_sentence(
    client: TestClient, admin: dict, name: str, content: bytes, says: str
) -> None:
    response = import_file(client, admin["headers"], name, content)
    assert response.status_code == 422, response.text
    assert response.json()["meta"]["code"] == "validation_error"
    assert says in response.json()["message"]


def test_missing_file_foreign_project_and_reader_key(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    no_file = client.post(f"{API}/meetings/import", data={"title": "x"}, headers=headers)
    assert no_file.status_code == 422 and no_file.json()["meta"]["code"] == "validation_error"
    other = {"X-API-Key": new_key(runtime, org="globex")["key"]}
    theirs = client.post(f"{API}/projects", json={"name": "Theirs"}, headers=other).json()["data"]
    foreign = import_file(client, headers, "retro-2026-02-27.vtt", project_id=theirs["id"])
    assert foreign.status_code == 404 and foreign.json()["meta"]["code"] == "not_found"
    reader = {"X-API-Key": new_key(runtime, org="acme", role="reader")["key"]}
    assert import_file(client, reader, "retro-2026-02-27.vtt").status_code == 403
