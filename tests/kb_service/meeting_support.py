"""Helpers shared by the meeting tests: signed callbacks, waiting for the indexer."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from kb_service.services.meeting_callbacks import sign
from tests.conftest import SAMPLE_DOCS

STANDUP = json.loads((SAMPLE_DOCS / "standup-2026-03-02.json").read_text())
API = "/api/v1"


def create_source(
    client: TestClient, headers: dict[str, str], project_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Sasha bot"}
    if project_id:
        body["project_id"] = project_id
    response = client.post(f"{API}/meeting-sources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def event(type_: str, meeting: str, sequence: int, **payload: Any) -> dict[str, Any]:
    """A callback body stamped now (Unix seconds), one second later per sequence step."""
    return {
        "type": type_,
        "meetingId": meeting,
        "sequence": sequence,
        "timestamp": int(time.time()) + sequence,
        "payload": payload,
    }


def post_event(
    client: TestClient,
    source: dict[str, Any],
    body: dict[str, Any] | bytes,
    secret: str | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = sign(secret or source["signing_secret"], raw)
    return client.post(
        f"{API}/meetings/events/{source['id']}",
        content=raw,
        headers={"X-Sasha-Signature": signature, "Content-Type": "application/json"},
    )


def wait_for_meeting(
    client: TestClient,
    meeting_id: str,
    headers: dict[str, str],
    status: str = "indexed",
    timeout: float = 60,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    meeting: dict[str, Any] = {}
    while time.monotonic() < deadline:
        meeting = client.get(f"{API}/meetings/{meeting_id}", headers=headers).json()["data"]
        if meeting["status"] == status:
            return meeting
        time.sleep(0.05)
    raise AssertionError(f"meeting {meeting_id} did not become {status}: {meeting}")


def search(client: TestClient, headers: dict[str, str], query: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/search", json={"query": query, **body}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_until_found(
    client: TestClient, headers: dict[str, str], query: str, needle: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = search(client, headers, query, mode="retrieve", top_k=10)
        for chunk in data["chunks"]:
            if needle in chunk["text"]:
                return chunk
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} was not found by /search within {timeout}s")
