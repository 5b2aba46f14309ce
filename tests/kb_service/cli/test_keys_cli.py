"""`kb-service keys create`, run in-process against a real data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.cli import main
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.cli.cli_support import use_data_dir


def test_keys_create_json_prints_one_object_whose_key_authenticates(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)

    assert main(["keys", "create", "--org", "acme", "--role", "admin", "--json"]) == 0

    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line: one object
    created = json.loads(out)
    assert set(created) == {"organization_id", "key_id", "key"}
    assert created["key"].startswith("sk_")
    assert created["key_id"].startswith("key_")
    assert created["organization_id"].startswith("org_")

    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            me = client.get("/api/v1/workspaces/me", headers={"X-API-Key": created["key"]})
            wrong = client.get("/api/v1/workspaces/me", headers={"X-API-Key": "sk_not_a_key"})
    finally:
        runtime.close()
    assert me.status_code == 200
    data = me.json()["data"]
    assert data == {
        "organization_id": created["organization_id"],
        "organization_name": "acme",
        "key_id": created["key_id"],
        "member_id": data["member_id"],  # the owner member, made with the first key
        "role": "admin",
    }
    assert data["member_id"].startswith("mem_")
    assert wrong.status_code == 401
