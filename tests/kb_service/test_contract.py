"""The contract across every route of the OpenAPI schema, plus schemathesis fuzzing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.workers.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import make_settings, new_key, wait_for_job
from tests.kb_service.live_servers import webhook_receiver
from tests.kb_service.webhook_support import emit

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def minimal(spec: dict, schema: dict) -> Any:
    """The smallest valid-looking value for a JSON schema (required fields only)."""
    schema = _resolve(spec, schema)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if _resolve(spec, s).get("type") != "null"]
            return minimal(spec, options[0])
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: minimal(spec, schema["properties"][name]) for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal(spec, schema["items"])] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if schema.get("format") == "uri" or "url" in schema.get("title", "").lower():
        return "https://example.com/hook"
    return "x" * max(1, schema.get("minLength", 1))


def operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in spec["paths"].items():
        if path.startswith(API):
            for method in METHODS:
                if method in item:
                    yield path, method, item[method]


def call(
    client: TestClient, spec: dict, path: str, method: str, op: dict, ids: dict, headers: dict
):  # type: ignore[no-untyped-def]
    url = path
    for name in [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]:
        url = url.replace("{" + name + "}", ids[name])  # a new route needs a real id here
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    json_body = minimal(spec, body["schema"]) if body else None
    return client.request(method.upper(), url, json=json_body, headers=headers)


def created(client: TestClient, path: str, body: dict, headers: dict) -> dict:
    response = client.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict = response.json()["data"]
    return data


def test_every_route_hides_other_organizations_and_needs_a_key(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "Private"}, headers=headers).json()[
        "data"
    ]
    job = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": "Only acme may read this sentence."}]},
        headers=headers,
    ).json()["data"]
    job = wait_for_job(client, job["id"], headers)
    key = client.post(f"{API}/api-keys", json={"role": "reader"}, headers=headers).json()["data"]
    with webhook_receiver() as receiver:
        hook = client.post(f"{API}/webhooks", json={"url": receiver.url}, headers=headers).json()[
            "data"
        ]
        emit(runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(runtime.db, allow_private=True)
        dispatcher.run_once()
        dispatcher.stop()
    delivery = client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=headers).json()[
        "data"
    ][0]
    project = created(client, "/projects", {"name": "Launch"}, headers)
    meeting = created(
        client,
        "/meetings",
        {
            "title": "Launch sync",
            "project_id": project["id"],
            "segments": [{"speaker": "Ada", "text": "We ship on Friday.", "timestamp": 1.5}],
        },
        headers,
    )
    source = created(client, "/meeting-sources", {"name": "Room"}, headers)
    org = admin["organization_id"]
    invitation = created(client, f"/workspaces/{org}/invite", {"email": "ada@example.com"}, headers)
    accept = invitation["accept_url"].removeprefix("http://testserver")
    member = client.post(accept, json={}).json()["data"]["member"]
    task = created(client, "/tasks", {"name": "Digest", "prompt": "What changed?"}, headers)
    run = client.post(f"{API}/tasks/{task['id']}/run", headers=headers).json()["data"]
    ids = {
        "workspace_id": org,
        "member_id": member["id"],
        "kb_id": kb["id"],
        "document_id": job["documents"][0]["document_id"],
        "job_id": job["id"],
        "key_id": key["id"],
        "webhook_id": hook["id"],
        "delivery_id": delivery["id"],
        "project_id": project["id"],
        "meeting_id": meeting["id"],
        "source_id": source["id"],
        "task_id": task["id"],
        "run_id": run["id"],
    }
    spec = client.get("/openapi.json").json()
    foreign = {"X-API-Key": new_key(runtime, org="intruder")["key"]}
    checked = set()
    unsecured = set()
    for path, method, op in operations(spec):
        if not op.get("security"):
            unsecured.add((method, path))
            continue
        anonymous = call(client, spec, path, method, op, ids, {})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.json()["meta"]["code"] == "unauthorized"
        if "{" not in path:
            continue
        response = call(client, spec, path, method, op, ids, foreign)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["meta"]["code"] == "not_found"
        checked.add((method, path))
    # A router that lost its API-key dependency would drop out of the walk: only the
    # live meeting callbacks (the source's signature) and accepting an invitation (its
    # single-use token) may go without.
    assert unsecured == {
        ("post", f"{API}/meetings/events/{{source_id}}"),
        ("post", f"{API}/invitations/{{token}}/accept"),
    }
    used = client.post(accept, json={})
    assert used.status_code == 409, used.text
    unsigned = client.post(
        f"{API}/meetings/events/{source['id']}",
        json={"type": "meeting_status", "meetingId": "m1", "sequence": 1, "payload": {}},
    )
    assert unsigned.status_code == 401, unsigned.text
    assert unsigned.json()["meta"]["code"] == "unauthorized"
    assert len(checked) >= 20
    assert {
        ("get", f"{API}/projects/{{project_id}}"),
        ("get", f"{API}/meetings/{{meeting_id}}/transcript"),
        ("delete", f"{API}/meeting-sources/{{source_id}}"),
        ("post", f"{API}/tasks/{{task_id}}/run"),
        ("get", f"{API}/task-runs/{{run_id}}"),
    } <= checked
    # ...and everything is still there for its owner
    assert client.get(f"{API}/knowledge-bases/{kb['id']}", headers=headers).status_code == 200
    assert client.get(f"{API}/meetings/{meeting['id']}", headers=headers).status_code == 200
    assert client.get(f"{API}/tasks/{task['id']}", headers=headers).status_code == 200
    sources = client.get(f"{API}/meeting-sources", headers=headers).json()["data"]
    assert [s["id"] for s in sources] == [source["id"]]
    assert client.get(f"{API}/workspaces/me", headers={"X-API-Key": key["key"]}).status_code == 200


def test_schemathesis_no_5xx_and_every_response_in_the_envelope(tmp_path: Path, embedder) -> None:
    runtime = Runtime.build(make_settings(tmp_path, rate_limit_enabled=False), embedder=embedder)
    runtime.start_workers(1)
    try:
        app = create_app(runtime=runtime)
        headers = {"X-API-Key": new_key(runtime)["key"]}
        with TestClient(app) as client:
            kb = client.post(f"{API}/knowledge-bases", json={"name": "Fuzzed"}, headers=headers)
            assert kb.status_code == 201
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        labels = []
        for result in schema.get_all_operations():
            operation = result.ok()
            labels.append(operation.label)

            @given(case=operation.as_strategy())
            @settings(
                max_examples=12,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                authenticated = random.random() > 0.1
                response = case.call(headers=headers if authenticated else {})
                where = (
                    case.method,
                    case.formatted_path,
                    response.status_code,
                    response.text[:300],
                )
                assert response.status_code < 500, where
                assert "x-request-id" in {k.lower() for k in response.headers}, where
                content_type = {k.lower(): v for k, v in response.headers.items()}.get(
                    "content-type"
                )
                if content_type and content_type[0].startswith("application/json"):
                    body = response.json()
                    assert set(body) == {"success", "data", "message", "meta"}, where
                    assert body["success"] is (response.status_code < 400), where
                    if not body["success"]:
                        assert body["meta"]["code"] and body["meta"]["request_id"], where

            check()
        assert len(labels) >= 15
    finally:
        runtime.close()
