"""API keys: rotation with a grace period, expiry, last use, and the member's role cap."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.db.identity import ApiKey
from kb_service.runtime import Runtime
from kb_service.services import keys
from tests.conftest import make_settings, new_key

API = "/api/v1"


def _me(client: TestClient, secret: str) -> int:
    return client.get(f"{API}/workspaces/me", headers={"X-API-Key": secret}).status_code


def _create(client: TestClient, headers: dict, **body: Any) -> dict:
    r = client.post(f"{API}/api-keys", json={"role": "reader", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_rotation_without_grace_refuses_the_old_secret_at_once(
    client: TestClient, admin: dict
) -> None:
    key = _create(client, admin["headers"])
    r = client.post(f"{API}/api-keys/{key['id']}/rotate", headers=admin["headers"])
    assert r.status_code == 200, r.text
    rotated = r.json()["data"]
    assert rotated["id"] == key["id"] and rotated["key"] != key["key"]
    assert rotated["previous_valid_until"] is None
    assert _me(client, key["key"]) == 401 and _me(client, rotated["key"]) == 200
    listed = client.get(f"{API}/api-keys", headers=admin["headers"]).json()["data"]
    assert all(k["key"] is None for k in listed)


def test_rotation_with_grace_keeps_the_old_secret_until_it_ends(
    client: TestClient, admin: dict
) -> None:
    key = _create(client, admin["headers"])
    r = client.post(
        f"{API}/api-keys/{key['id']}/rotate", json={"grace_seconds": 1}, headers=admin["headers"]
    )
    rotated = r.json()["data"]
    assert rotated["previous_valid_until"] is not None
    assert _me(client, key["key"]) == 200 and _me(client, rotated["key"]) == 200
    time.sleep(1.2)
    refused = client.get(f"{API}/workspaces/me", headers={"X-API-Key": key["key"]})
    assert refused.status_code == 401 and "rotated" in refused.json()["message"]
    assert _me(client, rotated["key"]) == 200


def test_rotation_refuses_revoked_foreign_and_overlong(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    key = _create(client, admin["headers"])
    too_long = client.post(
        f"{API}/api-keys/{key['id']}/rotate",
        json={"grace_seconds": 10**9},
        headers=admin["headers"],
    )
    assert too_long.status_code == 422
    negative = client.post(
        f"{API}/api-keys/{key['id']}/rotate", json={"grace_seconds": -1}, headers=admin["headers"]
    )
    assert negative.status_code == 422
    foreign = {"X-API-Key": new_key(runtime, org="intruder")["key"]}
    assert client.post(f"{API}/api-keys/{key['id']}/rotate", headers=foreign).status_code == 404
    client.delete(f"{API}/api-keys/{key['id']}", headers=admin["headers"])
    revoked = client.post(f"{API}/api-keys/{key['id']}/rotate", headers=admin["headers"])
    assert revoked.status_code == 409
    assert _me(client, key["key"]) == 401


def test_a_key_expires_when_its_creator_said(client: TestClient, admin: dict) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = client.post(f"{API}/api-keys", json={"expires_at": past}, headers=admin["headers"])
    assert r.status_code == 422 and "future" in r.json()["message"]
    naive = client.post(
        f"{API}/api-keys", json={"expires_at": "2030-01-01T00:00:00"}, headers=admin["headers"]
    )
    assert naive.status_code == 422
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    key = _create(client, admin["headers"], expires_at=soon)
    assert key["expires_at"] is not None and _me(client, key["key"]) == 200
    time.sleep(1.2)
    expired = client.get(f"{API}/workspaces/me", headers={"X-API-Key": key["key"]})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


def test_last_used_is_recorded_at_most_once_a_minute(tmp_path: Path, embedder: Any) -> None:
    runtime = Runtime.build(make_settings(tmp_path), embedder=embedder)
    try:
        made = new_key(runtime)
        with TestClient(create_app(runtime=runtime)) as client:
            assert _me(client, made["key"]) == 200
            first = client.get(f"{API}/api-keys", headers={"X-API-Key": made["key"]}).json()["data"]
            used = datetime.fromisoformat(first[0]["last_used_at"])
            assert datetime.now(UTC) - used < timedelta(seconds=30)
            assert _me(client, made["key"]) == 200
            later = client.get(f"{API}/api-keys", headers={"X-API-Key": made["key"]}).json()["data"]
            assert later[0]["last_used_at"] == first[0]["last_used_at"]
        with runtime.db.session() as session:
            row = session.get(ApiKey, made["key_id"])
            assert row is not None
            row.last_used_at = datetime.now(UTC) - keys.LAST_USED_RESOLUTION
        keys.authenticate(runtime.db, secret=made["key"])
        with runtime.db.session() as session:
            row = session.get(ApiKey, made["key_id"])
            assert row is not None and row.last_used_at is not None
            assert datetime.now(UTC) - row.last_used_at < timedelta(seconds=30)
    finally:
        runtime.close()
