"""Task test helpers: a runtime on SQLite or PostgreSQL, creating tasks, running runs by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.workers.base import worker_identity
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key, postgres_url_or_skip
from tests.kb_service.query_support import Env

API = "/api/v1"


@contextmanager
def task_env(
    tmp_path: Path, embedder: Embedder, backend: str = "sqlite", **overrides: Any
) -> Iterator[Env]:
    """A runtime whose ingest is drained by hand (`env.drain()`), an admin's headers (`env.h`)."""
    if backend == "postgresql":
        overrides["database_url"] = postgres_url_or_skip()
    overrides.setdefault("task_min_interval_minutes", 5)
    settings = make_settings(tmp_path, rate_limit_enabled=False, **overrides)
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            yield Env(runtime, client)
    finally:
        runtime.close()


def other_org(env: Env, role: str = "admin", org: str = "globex") -> dict[str, str]:
    return {"X-API-Key": new_key(env.runtime, org=org, role=role)["key"]}


def create_task(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Digest")
    body.setdefault("prompt", "What changed?")
    response = client.post(f"{API}/tasks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def run_queued(runtime: Runtime, owner: str | None = None) -> int:
    """Claim and answer every claimable run in this thread; how many ran."""
    runner = runtime.task_runner()
    owner = owner or worker_identity()
    ran = 0
    while (claimed := runner.queue.claim(owner)) is not None:
        runner.run(claimed[0], owner, claimed[1])
        ran += 1
    return ran


def run_now(env: Env, task_id: str) -> dict[str, Any]:
    """Ask for a run over the API, answer it here, and read it back."""
    response = env.client.post(f"{API}/tasks/{task_id}/run", headers=env.h)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["status"] == "queued"
    assert run_queued(env.runtime) == 1
    run_id = response.json()["data"]["id"]
    return env.client.get(f"{API}/task-runs/{run_id}", headers=env.h).json()["data"]  # type: ignore[no-any-return]
