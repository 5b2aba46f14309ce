"""Tasks over the API: create, list, read, change, delete; validation, roles, other orgs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.embedding import Embedder
from tests.kb_service.query_support import Env
from tests.kb_service.tasks.task_support import API, create_task, other_org, task_env

WEEKLY = {"cron": "0 9 * * 1", "timezone": "Europe/Lisbon"}


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> Iterator[Env]:
    with task_env(tmp_path, embedder, request.param, task_max_enabled_per_org=3) as e:
        yield e


def _error(response: Any, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["data"] is None
    if field is not None:
        assert body["meta"]["code"] == "validation_error"
        assert field in {e["field"] for e in body["meta"]["errors"]}, body
    return str(body["message"])


def test_a_task_is_created_read_listed_changed_and_deleted(env: Env) -> None:
    c, h = env.client, env.h
    project = c.post(f"{API}/projects", json={"name": "Payments"}, headers=h).json()["data"]
    kb = env.kb("Handbook")
    task = create_task(
        c,
        h,
        name="Weekly digest",
        prompt="What did we decide?",
        scope={"knowledge_base_ids": [kb], "project_ids": [project["id"]], "since": "7d"},
        schedule=WEEKLY,
    )
    assert task["id"].startswith("tsk_") and task["enabled"] is True
    assert task["schedule"] == {**WEEKLY, "interval_minutes": None}
    assert task["scope"] == {
        "knowledge_base_ids": [kb],
        "project_ids": [project["id"]],
        "include_meetings": True,
        "since": "7d",
    }
    assert task["next_run_at"].endswith(("T09:00:00Z", "T08:00:00Z"))  # 9:00 in Lisbon
    assert c.get(f"{API}/tasks/{task['id']}", headers=h).json()["data"] == task

    changed = c.patch(
        f"{API}/tasks/{task['id']}", json={"enabled": False, "name": "Renamed"}, headers=h
    ).json()["data"]
    assert changed["enabled"] is False and changed["next_run_at"] is None
    assert changed["name"] == "Renamed" and changed["schedule"] == task["schedule"]
    hourly = c.patch(
        f"{API}/tasks/{task['id']}",
        json={"enabled": True, "schedule": {"interval_minutes": 60}},
        headers=h,
    ).json()["data"]
    assert hourly["schedule"] == {"cron": None, "timezone": None, "interval_minutes": 60}
    assert hourly["next_run_at"] is not None
    manual = c.patch(f"{API}/tasks/{task['id']}", json={"schedule": None}, headers=h).json()
    assert manual["data"]["schedule"] is None and manual["data"]["next_run_at"] is None
    _error(c.patch(f"{API}/tasks/{task['id']}", json={"name": None}, headers=h), 422, "name")

    deleted = c.delete(f"{API}/tasks/{task['id']}", headers=h)
    assert deleted.json()["data"] == {"id": task["id"], "deleted": True}
    _error(c.get(f"{API}/tasks/{task['id']}", headers=h), 404)


def test_tasks_page_oldest_first_without_gaps(env: Env) -> None:
    made = [create_task(env.client, env.h, name=f"T{n}", enabled=False)["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = env.client.get(f"{API}/tasks", params=params, headers=env.h).json()
        seen += [t["id"] for t in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            break
    assert seen == made


@pytest.mark.parametrize(
    ("schedule", "field", "words"),
    [
        ({"cron": "not a cron"}, "schedule.cron", "five fields"),
        ({"cron": "0 0 30 2 *"}, "schedule.cron", "no date"),
        ({"cron": "0 9 * * 1", "timezone": "Europe/Atlantis"}, "schedule.timezone", "Unknown"),
        ({"cron": "0 9 * * 1", "interval_minutes": 60}, "schedule", "not both"),
        ({"interval_minutes": 4}, "schedule.interval_minutes", "at least 5"),
        ({"cron": "*/2 * * * *"}, "schedule.cron", "KB_TASK_MIN_INTERVAL_MINUTES"),
        ({"timezone": "UTC"}, "schedule", "cron expression or interval_minutes"),
    ],
)
def test_bad_schedules_are_refused_with_a_sentence(
    env: Env, schedule: dict, field: str, words: str
) -> None:
    response = env.client.post(
        f"{API}/tasks", json={"name": "x", "prompt": "y", "schedule": schedule}, headers=env.h
    )
    assert words in _error(response, 422, field)


def test_other_inputs_are_checked(env: Env) -> None:
    c, h = env.client, env.h
    bad_since = {"name": "x", "prompt": "y", "scope": {"since": "last week"}}
    assert "7d" in _error(c.post(f"{API}/tasks", json=bad_since, headers=h), 422, "scope.since")
    generative = {"name": "x", "prompt": "y", "answerer": "generative"}
    message = _error(c.post(f"{API}/tasks", json=generative, headers=h), 422, "answerer")
    assert "KB_LLM_BASE_URL" in message
    blank = {"name": "x", "prompt": "   "}
    _error(c.post(f"{API}/tasks", json=blank, headers=h), 422, "prompt")
    iso = create_task(c, h, scope={"since": "2026-03-01T10:00:00+01:00"}, enabled=False)
    assert iso["scope"]["since"] == "2026-03-01T09:00:00Z"


def test_an_organization_has_at_most_the_configured_enabled_tasks(env: Env) -> None:
    c, h = env.client, env.h
    tasks = [create_task(c, h, schedule={"interval_minutes": 60}) for _ in range(3)]
    refused = c.post(f"{API}/tasks", json={"name": "x", "prompt": "y"}, headers=h)
    assert "KB_TASK_MAX_ENABLED_PER_ORG" in _error(refused, 422, "enabled")
    create_task(c, h, enabled=False)  # a disabled one does not count
    c.patch(f"{API}/tasks/{tasks[0]['id']}", json={"enabled": False}, headers=h)
    create_task(c, h)  # room again
    again = c.patch(f"{API}/tasks/{tasks[0]['id']}", json={"enabled": True}, headers=h)
    _error(again, 422, "enabled")
    create_task(c, other_org(env))  # another organization counts apart


def test_other_organizations_objects_are_404_and_roles_apply(env: Env) -> None:
    c, h = env.client, env.h
    stranger = other_org(env)
    their_kb = c.post(f"{API}/knowledge-bases", json={"name": "Theirs"}, headers=stranger)
    their_project = c.post(f"{API}/projects", json={"name": "Theirs"}, headers=stranger)
    for scope in (
        {"knowledge_base_ids": [their_kb.json()["data"]["id"]]},
        {"project_ids": [their_project.json()["data"]["id"]]},
    ):
        response = c.post(
            f"{API}/tasks", json={"name": "x", "prompt": "y", "scope": scope}, headers=h
        )
        _error(response, 404)
    task = create_task(c, h)
    run = c.post(f"{API}/tasks/{task['id']}/run", headers=h).json()["data"]
    for method, path in [
        ("GET", f"/tasks/{task['id']}"),
        ("PATCH", f"/tasks/{task['id']}"),
        ("DELETE", f"/tasks/{task['id']}"),
        ("POST", f"/tasks/{task['id']}/run"),
        ("GET", f"/tasks/{task['id']}/runs"),
        ("GET", f"/task-runs/{run['id']}"),
    ]:
        body = {"name": "mine now"} if method == "PATCH" else None
        response = c.request(method, API + path, json=body, headers=stranger)
        assert response.status_code == 404, (method, path, response.text)
    assert c.get(f"{API}/tasks", headers=stranger).json()["data"] == []

    reader = other_org(env, role="reader", org="acme")
    assert c.get(f"{API}/tasks/{task['id']}", headers=reader).status_code == 200
    assert c.get(f"{API}/tasks/{task['id']}/runs", headers=reader).status_code == 200
    assert c.get(f"{API}/task-runs/{run['id']}", headers=reader).status_code == 200
    for method, path in [
        ("POST", "/tasks"),
        ("PATCH", f"/tasks/{task['id']}"),
        ("DELETE", f"/tasks/{task['id']}"),
        ("POST", f"/tasks/{task['id']}/run"),
    ]:
        body = {"name": "x", "prompt": "y"} if method != "DELETE" else None
        response = c.request(method, API + path, json=body, headers=reader)
        assert response.status_code == 403, (method, path, response.text)
