"""Scoped keys: every operation is 404 outside the scope; lists and searches are narrowed.

On SQLite and PostgreSQL: the `settings` fixture here replaces the shared one, so the
shared `runtime`, `client` and `admin` fixtures run on both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_service.runtime import Runtime
from kb_service.settings import Settings
from tests.conftest import make_settings, postgres_url_or_skip, wait_for_job
from tests.kb_service.test_contract import API, call, created, operations

OUTSIDE_TEXT = "The outside vault code is walrus."
INSIDE_TEXT = "The inside launch date is Friday."


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgresql":
        return make_settings(tmp_path, database_url=postgres_url_or_skip())
    return make_settings(tmp_path)


def _setup(client: TestClient, headers: dict) -> dict:
    inside = created(client, "/projects", {"name": "Inside"}, headers)
    outside = created(client, "/projects", {"name": "Outside"}, headers)
    kb_in = created(client, "/knowledge-bases", {"name": "In", "project_id": inside["id"]}, headers)
    kb_out = created(
        client, "/knowledge-bases", {"name": "Out", "project_id": outside["id"]}, headers
    )
    jobs = {}
    for kb, text in ((kb_in, INSIDE_TEXT), (kb_out, OUTSIDE_TEXT)):
        job = client.post(
            f"{API}/knowledge-bases/{kb['id']}/ingest",
            json={"documents": [{"text": text}]},
            headers=headers,
        ).json()["data"]
        jobs[kb["id"]] = wait_for_job(client, job["id"], headers)
    meeting = created(
        client,
        "/meetings",
        {
            "title": "Vault",
            "project_id": outside["id"],
            "segments": [{"speaker": "A", "text": "x", "timestamp": 1.0}],
        },
        headers,
    )
    everywhere = created(client, "/tasks", {"name": "All", "prompt": "What is new?"}, headers)
    run = client.post(f"{API}/tasks/{everywhere['id']}/run", headers=headers)
    assert run.status_code == 202, run.text
    return {
        "task": everywhere,
        "run": run.json()["data"],
        "inside": inside,
        "outside": outside,
        "kb_in": kb_in,
        "kb_out": kb_out,
        "jobs": jobs,
        "meeting": meeting,
    }


def test_a_scoped_key_sees_nothing_outside_its_scope(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    world = _setup(client, headers)
    response = client.post(
        f"{API}/api-keys",
        json={"role": "writer", "scopes": {"project_ids": [world["inside"]["id"]]}},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    key = response.json()["data"]
    assert key["scopes"] == {"knowledge_base_ids": [], "project_ids": [world["inside"]["id"]]}
    scoped = {"X-API-Key": key["key"]}
    job_out = world["jobs"][world["kb_out"]["id"]]
    ids = {
        "kb_id": world["kb_out"]["id"],
        "document_id": job_out["documents"][0]["document_id"],
        "job_id": job_out["id"],
        "project_id": world["outside"]["id"],
        "meeting_id": world["meeting"]["id"],
        "task_id": world["task"]["id"],  # an organization-wide task is outside every scope
        "run_id": world["run"]["id"],
    }
    outside_ids = set(ids.values())
    spec = client.get("/openapi.json").json()
    self_scoped = set()
    for path, method, op in operations(spec):
        if not op.get("security"):
            continue
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        path_ids = {n: ids.get(n, "none_" + n) for n in names}
        response = call(client, spec, path, method, op, path_ids, scoped)
        if response.status_code == 404:
            assert response.json()["meta"]["code"] == "not_found", (method, path)
            continue
        # only the routes that apply the scope themselves answer, and never with outside ids
        self_scoped.add((method, path.removeprefix(API)))
        assert "{" not in path, (method, path, response.status_code, response.text)
        assert not any(i in response.text for i in outside_ids), (method, path, response.text)
        assert "walrus" not in response.text, (method, path)
    assert self_scoped <= {
        ("get", "/knowledge-bases"),
        ("get", "/projects"),
        ("get", "/meetings"),
        ("post", "/search"),
        ("post", "/meetings"),
        ("post", "/meetings/import"),
        ("get", "/tasks"),
        ("post", "/tasks"),
        ("get", "/workspaces/me"),
    }
    # inside the scope everything works
    listed = client.get(f"{API}/knowledge-bases", headers=scoped).json()["data"]
    assert [k["id"] for k in listed] == [world["kb_in"]["id"]]
    found = client.post(f"{API}/search", json={"query": "launch date"}, headers=scoped)
    assert found.status_code == 200, found.text
    chunks = found.json()["data"]["chunks"]
    assert chunks and {c["knowledge_base_id"] for c in chunks} == {world["kb_in"]["id"]}
    named = client.post(
        f"{API}/search",
        json={"query": "vault", "scope": {"knowledge_base_ids": [world["kb_out"]["id"]]}},
        headers=scoped,
    )
    assert named.status_code == 404, named.text
    assert (
        client.get(f"{API}/knowledge-bases/{world['kb_in']['id']}", headers=scoped).status_code
        == 200
    )
    # rotation keeps the scope
    rotated = client.post(f"{API}/api-keys/{key['id']}/rotate", headers=headers).json()["data"]
    assert rotated["scopes"] == key["scopes"]
    again = {"X-API-Key": rotated["key"]}
    assert (
        client.get(f"{API}/knowledge-bases/{world['kb_out']['id']}", headers=again).status_code
        == 404
    )


def test_scopes_must_name_the_organizations_objects(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    for scopes in ({"knowledge_base_ids": ["kb_nope"]}, {"project_ids": ["prj_nope"]}):
        response = client.post(f"{API}/api-keys", json={"scopes": scopes}, headers=headers)
        assert response.status_code == 404, response.text
    empty = client.post(f"{API}/api-keys", json={"scopes": {}}, headers=headers).json()["data"]
    nothing = {"X-API-Key": empty["key"]}
    created(client, "/knowledge-bases", {"name": "Any"}, headers)
    assert client.get(f"{API}/knowledge-bases", headers=nothing).json()["data"] == []
    found = client.post(f"{API}/search", json={"query": "anything"}, headers=nothing)
    assert found.status_code == 200 and found.json()["data"]["chunks"] == []


def _events(text: str) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a Server-Sent Events reply."""
    pairs = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        pairs.append((lines["event"], json.loads(lines["data"])))
    return pairs


def test_lists_and_streamed_answers_of_a_scoped_key_stay_inside(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    world = _setup(client, headers)
    meeting_in = created(
        client,
        "/meetings",
        {
            "title": "Launch",
            "project_id": world["inside"]["id"],
            "segments": [{"speaker": "A", "text": "y", "timestamp": 1.0}],
        },
        headers,
    )
    body = {"role": "reader", "scopes": {"project_ids": [world["inside"]["id"]]}}
    scoped = {"X-API-Key": created(client, "/api-keys", body, headers)["key"]}
    projects = client.get(f"{API}/projects", headers=scoped).json()["data"]
    assert [p["id"] for p in projects] == [world["inside"]["id"]]
    meetings = client.get(f"{API}/meetings", headers=scoped).json()["data"]
    assert [m["id"] for m in meetings] == [meeting_in["id"]]
    assert len(client.get(f"{API}/projects", headers=headers).json()["data"]) == 2
    question = {"query": "What is the launch date or the vault code?", "stream": True}
    for path in ("/search", f"/knowledge-bases/{world['kb_in']['id']}/query"):
        response = client.post(API + path, json=question, headers=scoped)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/event-stream")
        kind, done = _events(response.text)[-1]
        assert kind == "done" and done["citations"], (path, response.text)
        assert {c["knowledge_base_id"] for c in done["citations"]} == {world["kb_in"]["id"]}
        assert "Friday" in done["answer"] and "walrus" not in response.text
    outside = client.post(
        f"{API}/knowledge-bases/{world['kb_out']['id']}/query", json=question, headers=scoped
    )
    assert outside.status_code == 404 and outside.json()["meta"]["code"] == "not_found"
