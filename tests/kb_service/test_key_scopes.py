"""Scoped keys: every operation is 404 outside the scope; lists and searches are narrowed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb_service.runtime import Runtime
from tests.conftest import wait_for_job
from tests.kb_service.test_contract import API, call, created, operations

OUTSIDE_TEXT = "The outside vault code is walrus."
INSIDE_TEXT = "The inside launch date is Friday."


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
    return {
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
