"""`KB_LOG_FORMAT=json` on a real `kb-service serve`: one JSON line per request with its
request id, organization, route template, status and duration, and one per job transition."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kb_service.db.database import Database
from kb_service.services.keys import create_api_key, get_or_create_organization
from tests.conftest import make_settings
from tests.kb_service.workers.ingest.process_support import free_port, start

TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not start: " + log.read_text())


def _records(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines()
    assert not [line for line in lines if TEXT_LOG_LINE.match(line)]  # no text-format record
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_json_request_and_job_transition_lines(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    db = Database(settings.resolved_database_url)
    db.migrate()
    org = get_or_create_organization(db, name="acme")
    _key, secret = create_api_key(db, organization_id=org.id, role="admin")
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KB_DATA_DIR": str(settings.storage.data_dir),
        "KB_LOG_FORMAT": "json",
        "KB_IN_PROCESS_WORKERS": "1",
        "KB_WORKER_POLL_SECONDS": "0.1",
        "KB_WEBHOOK_DISPATCHER_ENABLED": "false",
        "KB_MEETING_INDEXER_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
    }
    log = tmp_path / "serve.log"
    server = start(["serve", "--port", str(port)], env, log)
    try:
        _wait_ready(base, server, log)
        headers = {"X-API-Key": secret}
        with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=60) as api:
            kb = api.post("/knowledge-bases", json={"name": "ops"})
            assert kb.status_code == 201, kb.text
            kb_id = kb.json()["data"]["id"]
            body = {"documents": [{"text": "The pager rota changes every Monday at noon."}]}
            job = api.post(f"/knowledge-bases/{kb_id}/ingest", json=body).json()["data"]
            deadline = time.monotonic() + 60
            while job["status"] not in ("completed", "failed") and time.monotonic() < deadline:
                time.sleep(0.1)
                job = api.get(f"/ingest-jobs/{job['id']}").json()["data"]
            assert job["status"] == "completed", job
            missing = api.get("/knowledge-bases/kb_missing", headers={"X-Request-Id": "trace-42"})
            assert missing.status_code == 404
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    records = _records(log)
    requests = [r for r in records if r.get("event") == "request"]
    for line in requests:
        assert {"ts", "level", "logger", "request_id", "route", "status", "duration_ms"} <= set(
            line
        ), line
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    created = [
        r for r in requests if r["route"] == "/api/v1/knowledge-bases" and r["method"] == "POST"
    ]
    assert len(created) == 1 and created[0]["status"] == 201
    assert created[0]["organization_id"] == org.id
    assert created[0]["request_id"].startswith("req_")
    ingest = [r for r in requests if r["route"] == "/api/v1/knowledge-bases/{kb_id}/ingest"]
    assert [r["status"] for r in ingest] == [202]
    (not_found,) = [r for r in requests if r["request_id"] == "trace-42"]
    assert not_found["route"] == "/api/v1/knowledge-bases/{kb_id}"
    assert not_found["status"] == 404 and not_found["organization_id"] == org.id
    health = [r for r in requests if r["route"] == "/healthz"]
    assert health and all(r["organization_id"] is None for r in health)

    transitions = [r for r in records if r.get("event") == "job_transition"]
    assert [t["status"] for t in transitions if t["job_id"] == job["id"]] == [
        "queued",
        "running",
        "completed",
    ]
    finished = transitions[-1]
    assert finished["organization_id"] == org.id and finished["chunks_indexed"] >= 1


def test_a_cli_command_on_a_new_data_directory_prints_no_migration_chatter(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("KB_LOG_FORMAT", None)
    done = subprocess.run(
        [sys.executable, "-m", "kb_service.cli", "keys", "create", "--org", "acme", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key"].startswith("sk_")
    assert "alembic" not in done.stderr, done.stderr  # the migrations ran, quietly
