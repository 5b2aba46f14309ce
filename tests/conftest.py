"""Shared fixtures: real model, real SQLite/PostgreSQL, real Qdrant Edge."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.services.keys import create_api_key, get_or_create_organization
from kb_service.settings import Settings
from retrieval.embedding import Embedder, load_embedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = ROOT / "sample_docs"
PG_ADMIN_URL = os.environ.get(
    "KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "worker_poll_seconds": 0.05,
        "webhook_allow_private": True,
    }
    values.update(overrides)
    return Settings.from_env(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def runtime(settings: Settings, embedder: Embedder) -> Iterator[Runtime]:
    rt = Runtime.build(settings, embedder=embedder)
    rt.start_workers(1)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def query_env(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Any]:
    """The query tests' knowledge base of every sample document, ingested once."""
    from tests.kb_service.query_support import open_query_env  # it imports this module

    with open_query_env(tmp_path_factory.mktemp("query"), embedder) as env:
        yield env


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as c:
        yield c


def new_key(runtime: Runtime, org: str = "acme", role: str = "admin") -> dict[str, str]:
    organization = get_or_create_organization(runtime.db, name=org)
    key, secret = create_api_key(runtime.db, organization_id=organization.id, role=role)
    return {"organization_id": organization.id, "key_id": key.id, "key": secret}


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    """An admin key of organization "acme", with ready-made headers."""
    key = new_key(runtime)
    key["headers"] = {"X-API-Key": key["key"]}  # type: ignore[assignment]
    return key


def wait_for_job(
    client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/ingest-jobs/{job_id}", headers=headers).json()["data"]
        if job["status"] in ("completed", "failed", "partially_failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s: {job}")


def postgres_url_or_skip() -> str:
    """A fresh, empty PostgreSQL database for this test; skipped off CI when unreachable."""
    from sqlalchemy import create_engine, text

    try:
        admin_engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            name = "kb_test_" + secrets.token_hex(6)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin_engine.dispose()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            raise AssertionError(
                f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {exc}"
            ) from exc
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__})")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
