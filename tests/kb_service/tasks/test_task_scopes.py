"""Tasks and scoped keys, on SQLite and PostgreSQL: a scoped key sees, saves and runs only
tasks whose scope lies inside its own; an organization-wide task is outside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval.embedding import Embedder
from tests.kb_service.tasks.task_support import API, create_task, run_queued, task_env

INSIDE_TEXT = "The launch date of the rocket is Friday the ninth."
OUTSIDE_TEXT = "The launch date of the rocket is secretly Monday; the vault code is walrus."


def _world(env: Any) -> dict[str, Any]:
    projects = {}
    for name in ("Inside", "Outside"):
        response = env.client.post(f"{API}/projects", json={"name": name}, headers=env.h)
        projects[name] = response.json()["data"]["id"]
    kb_in = env.kb("In", project_id=projects["Inside"])
    kb_out = env.kb("Out", project_id=projects["Outside"])
    env.records(kb_in, [{"text": INSIDE_TEXT, "title": "Plan"}])
    env.records(kb_out, [{"text": OUTSIDE_TEXT, "title": "Secret"}])
    env.drain()
    response = env.client.post(
        f"{API}/api-keys",
        json={"role": "writer", "scopes": {"project_ids": [projects["Inside"]]}},
        headers=env.h,
    )
    assert response.status_code == 201, response.text
    return {
        "inside": projects["Inside"],
        "outside": projects["Outside"],
        "kb_in": kb_in,
        "kb_out": kb_out,
        "scoped": {"X-API-Key": response.json()["data"]["key"]},
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_scoped_key_sees_saves_and_runs_only_tasks_inside_its_scope(
    tmp_path: Path, embedder: Embedder, backend: str
) -> None:
    with task_env(tmp_path, embedder, backend) as env:
        w = _world(env)
        scoped, client = w["scoped"], env.client
        outside = create_task(client, env.h, scope={"knowledge_base_ids": [w["kb_out"]]})
        everywhere = create_task(client, env.h)
        inside = create_task(client, env.h, scope={"knowledge_base_ids": [w["kb_in"]]})
        mixed = create_task(client, env.h, scope={"knowledge_base_ids": [w["kb_in"], w["kb_out"]]})
        listed = client.get(f"{API}/tasks", headers=scoped).json()["data"]
        assert [t["id"] for t in listed] == [inside["id"]]
        for task in (outside, everywhere, mixed):
            for method, path in (
                ("GET", f"/tasks/{task['id']}"),
                ("PATCH", f"/tasks/{task['id']}"),
                ("DELETE", f"/tasks/{task['id']}"),
                ("POST", f"/tasks/{task['id']}/run"),
                ("GET", f"/tasks/{task['id']}/runs"),
            ):
                body = {"name": "Mine"} if method == "PATCH" else None
                response = client.request(method, API + path, json=body, headers=scoped)
                assert response.status_code == 404, (method, path, response.text)
                assert response.json()["meta"]["code"] == "not_found"
        run_out = client.post(f"{API}/tasks/{outside['id']}/run", headers=env.h).json()["data"]
        assert client.get(f"{API}/task-runs/{run_out['id']}", headers=scoped).status_code == 404
        # saving a task that names anything outside is 404, and changes nothing
        for scope in (
            {"knowledge_base_ids": [w["kb_out"]]},
            {"project_ids": [w["outside"]]},
            {"knowledge_base_ids": [w["kb_in"]], "project_ids": [w["outside"]]},
        ):
            body = {"name": "Peek", "prompt": "What is the vault code?", "scope": scope}
            response = client.post(f"{API}/tasks", json=body, headers=scoped)
            assert response.status_code == 404, response.text
            patched = client.patch(f"{API}/tasks/{inside['id']}", json=body, headers=scoped)
            assert patched.status_code == 404, patched.text
        assert [t["id"] for t in client.get(f"{API}/tasks", headers=scoped).json()["data"]] == [
            inside["id"]
        ]
        stored = client.get(f"{API}/tasks/{inside['id']}", headers=scoped).json()["data"]
        assert stored["name"] == "Digest" and stored["scope"]["knowledge_base_ids"] == [w["kb_in"]]
        # a scoped key's task without a scope gets the key's scope, not the organization
        own = create_task(client, scoped, prompt="When is the launch date of the rocket?")
        assert own["scope"]["project_ids"] == [w["inside"]]
        assert own["scope"]["knowledge_base_ids"] == []
        queued = client.post(f"{API}/tasks/{own['id']}/run", headers=scoped)
        assert queued.status_code == 202, queued.text
        assert run_queued(env.runtime) >= 1
        run = client.get(f"{API}/task-runs/{queued.json()['data']['id']}", headers=scoped)
        assert run.status_code == 200, run.text
        run_data = run.json()["data"]
        assert run_data["status"] == "completed" and run_data["found"] is True
        assert run_data["citations"]
        assert {c["knowledge_base_id"] for c in run_data["citations"]} == {w["kb_in"]}
        assert "Friday" in run_data["answer"]
        assert "Monday" not in run.text and "walrus" not in run.text
        runs = client.get(f"{API}/tasks/{own['id']}/runs", headers=scoped).json()["data"]
        assert [r["id"] for r in runs] == [run_data["id"]]
        # the key may change and delete what is inside
        renamed = client.patch(
            f"{API}/tasks/{own['id']}",
            json={"name": "Launch", "scope": {"knowledge_base_ids": [w["kb_in"]]}},
            headers=scoped,
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["data"]["scope"]["knowledge_base_ids"] == [w["kb_in"]]
        assert client.delete(f"{API}/tasks/{own['id']}", headers=scoped).status_code == 200
        assert client.get(f"{API}/tasks/{own['id']}", headers=env.h).status_code == 404
