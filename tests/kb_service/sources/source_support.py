"""Web source test helpers: a runtime against a loopback site, running syncs by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key, postgres_url_or_skip

API = "/api/v1"


def page_text(name: str, version: int = 1) -> str:
    """Distinct text per page and version (identical texts would be deduplicated)."""
    return "\n\n".join(
        f"The {name} handbook, revision {version}, section {n}: the {name} team keeps "
        f"its {name} runbooks for service {name}-{n} in version {version} of the wiki."
        for n in range(4)
    )


@contextmanager
def source_env(
    tmp_path: Path, embedder: Embedder, backend: str = "sqlite", **overrides: Any
) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    if backend == "postgresql":
        overrides["database_url"] = postgres_url_or_skip()
    settings = make_settings(
        tmp_path, source_fetch_timeout_seconds=1.5, rate_limit_enabled=False, **overrides
    )
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(1)
    key = new_key(runtime)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            yield runtime, client, {"X-API-Key": key["key"]}
    finally:
        runtime.close()


def new_kb(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(f"{API}/knowledge-bases", json={"name": "web"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def add_source(client: TestClient, headers: dict[str, str], kb_id: str, **body: Any) -> dict:
    response = client.post(f"{API}/knowledge-bases/{kb_id}/sources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def sync_now(
    runtime: Runtime, client: TestClient, headers: dict[str, str], source_id: str, **body: Any
) -> dict:
    """Ask for a sync over the API, run it in this thread, wait for its ingest jobs."""
    response = client.post(f"{API}/sources/{source_id}/sync", json=body or None, headers=headers)
    assert response.status_code == 202, response.text
    run_queued(runtime)
    syncs = client.get(f"{API}/sources/{source_id}/syncs", headers=headers).json()["data"]
    sync = next(s for s in syncs if s["id"] == response.json()["data"]["id"])
    for job_id in sync["ingest_job_ids"]:
        wait_job(client, headers, job_id)
    return sync  # type: ignore[no-any-return]


def run_queued(runtime: Runtime, owner: str = "test-worker") -> int:
    """Claim and run every claimable sync as `owner`; how many ran."""
    syncer = runtime.source_syncer()
    ran = 0
    while (claimed := syncer.queue.claim(owner)) is not None:
        syncer.run(claimed[0], owner, claimed[1])
        ran += 1
    return ran


def wait_job(client: TestClient, headers: dict[str, str], job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"{API}/ingest-jobs/{job_id}", headers=headers).json()["data"]
        if job["status"] in ("completed", "failed", "partially_failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"ingest job {job_id} did not finish")


def documents(client: TestClient, headers: dict[str, str], kb_id: str) -> dict[str, dict]:
    """The knowledge base's documents by source URL."""
    found: dict[str, dict] = {}
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        body = client.get(
            f"{API}/knowledge-bases/{kb_id}/documents", params=params, headers=headers
        ).json()
        found.update({d["source_url"]: d for d in body["data"]})
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            return found
