"""Keys, roles, organizations, rate limits, and errors in the envelope."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from tests.conftest import make_settings, new_key

API = "/api/v1"


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "data", "message", "meta"}
    assert body["success"] is False and body["data"] is None and body["message"]
    assert body["meta"]["code"] == code
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    return body


def test_keys_bearer_revocation_and_workspace(client: TestClient, admin: dict) -> None:
    assert_error(client.get(f"{API}/knowledge-bases"), 401, "unauthorized")
    assert_error(
        client.get(f"{API}/knowledge-bases", headers={"X-API-Key": "sk_nope"}), 401, "unauthorized"
    )
    me = client.get(f"{API}/workspaces/me", headers={"Authorization": f"Bearer {admin['key']}"})
    assert me.status_code == 200
    data = me.json()["data"]
    assert data == {
        "organization_id": admin["organization_id"],
        "organization_name": "acme",
        "key_id": admin["key_id"],
        "member_id": data["member_id"],
        "role": "admin",
    }
    assert data["member_id"].startswith("mem_")
    created = client.post(
        f"{API}/api-keys", json={"role": "reader", "name": "ci"}, headers=admin["headers"]
    )
    assert created.status_code == 201
    secret = created.json()["data"]["key"]
    assert secret.startswith("sk_")
    listed = client.get(f"{API}/api-keys", headers=admin["headers"]).json()["data"]
    assert all(k["key"] is None for k in listed) and len(listed) == 2
    assert all(secret not in str(k) for k in listed)
    reader = {"X-API-Key": secret}
    assert client.get(f"{API}/knowledge-bases", headers=reader).status_code == 200
    revoked = client.delete(
        f"{API}/api-keys/{created.json()['data']['id']}", headers=admin["headers"]
    )
    assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"]
    assert_error(client.get(f"{API}/knowledge-bases", headers=reader), 401, "unauthorized")


def test_roles_and_organization_header(client: TestClient, admin: dict, runtime: Runtime) -> None:
    reader = {"X-API-Key": new_key(runtime, role="reader")["key"]}
    writer = {"X-API-Key": new_key(runtime, role="writer")["key"]}
    assert_error(
        client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=reader), 403, "forbidden"
    )
    assert (
        client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=writer).status_code == 201
    )
    assert_error(client.post(f"{API}/api-keys", json={}, headers=writer), 403, "forbidden")
    assert_error(client.get(f"{API}/webhooks", headers=writer), 403, "forbidden")
    mismatch = {**admin["headers"], "X-Organization-Id": "org_someoneelse"}
    assert_error(client.get(f"{API}/knowledge-bases", headers=mismatch), 403, "forbidden")
    match = {**admin["headers"], "X-Organization-Id": admin["organization_id"]}
    assert client.get(f"{API}/knowledge-bases", headers=match).status_code == 200


def test_framework_errors_are_in_the_envelope(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    assert_error(client.get(f"{API}/no-such-thing", headers=headers), 404, "not_found")
    assert_error(client.put(f"{API}/knowledge-bases", headers=headers), 405, "method_not_allowed")
    bad_json = client.post(
        f"{API}/knowledge-bases",
        content=b"{nope",
        headers={**headers, "content-type": "application/json"},
    )
    assert_error(bad_json, 422, "validation_error")
    invalid = assert_error(
        client.post(f"{API}/knowledge-bases", json={"name": 5, "x": 1}, headers=headers),
        422,
        "validation_error",
    )
    assert {e["field"] for e in invalid["meta"]["errors"]} == {"name", "x"}
    assert_error(
        client.get(f"{API}/knowledge-bases?limit=101", headers=headers), 422, "validation_error"
    )


def test_oversize_body_and_unexpected_errors_reveal_nothing(tmp_path: Path, embedder) -> None:
    runtime = Runtime.build(make_settings(tmp_path, max_upload_mb=0.01), embedder=embedder)
    try:
        key = new_key(runtime)
        app = create_app(runtime=runtime)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("database password is hunter2")

        with TestClient(app, raise_server_exceptions=False) as client:
            big = client.post(
                f"{API}/knowledge-bases",
                content=b"x" * 20_000,
                headers={"X-API-Key": key["key"], "content-type": "application/json"},
            )
            assert_error(big, 413, "payload_too_large")
            failed = client.get("/boom")
            body = assert_error(failed, 500, "internal")
            assert (
                "hunter2" not in failed.text
                and "Traceback" not in failed.text
                and "RuntimeError" not in body["message"]
            )
    finally:
        runtime.close()


def test_rate_limit_per_key_with_retry_after(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path, rate_limit_burst=3, rate_limit_per_second=0.5)
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        first, second = new_key(runtime), new_key(runtime, org="globex")
        with TestClient(create_app(runtime=runtime)) as client:
            statuses = [
                client.get(
                    f"{API}/knowledge-bases", headers={"X-API-Key": first["key"]}
                ).status_code
                for _ in range(4)
            ]
            assert statuses == [200, 200, 200, 429]
            limited = client.get(f"{API}/knowledge-bases", headers={"X-API-Key": first["key"]})
            assert_error(limited, 429, "rate_limited")
            assert 1 <= int(limited.headers["retry-after"]) <= 2
            # another key has its own bucket; health checks are not limited
            assert (
                client.get(
                    f"{API}/knowledge-bases", headers={"X-API-Key": second["key"]}
                ).status_code
                == 200
            )
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()
    disabled = Runtime.build(
        make_settings(tmp_path / "off", rate_limit_enabled=False, rate_limit_burst=1),
        embedder=embedder,
    )
    try:
        key = new_key(disabled)
        with TestClient(create_app(runtime=disabled)) as client:
            assert {
                client.get(f"{API}/knowledge-bases", headers={"X-API-Key": key["key"]}).status_code
                for _ in range(5)
            } == {200}
    finally:
        disabled.close()
