"""Fixtures of the console's browser tests: Chromium, and the real app on a loopback port.

The app runs under uvicorn (`serve_app`) on a runtime these fixtures own, with ingest
workers and the meeting indexer started as `kb-service serve` starts them; webhook
delivery is driven by the tests themselves (a dispatcher on a test clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key
from tests.kb_service.console.browser import Browser, chromium_or_skip
from tests.kb_service.live_servers import serve_app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    started = Browser(chromium_or_skip())
    yield started
    started.close()


@dataclass
class Console:
    base: str
    runtime: Runtime
    organization_id: str
    admin_key: str
    reader_key: str

    def api(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base + "/api/v1", headers={"X-API-Key": key or self.admin_key}, timeout=60
        )


@pytest.fixture(scope="package")
def console(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, browser: Browser
) -> Iterator[Console]:
    settings = make_settings(tmp_path_factory.mktemp("console"), rate_limit_enabled=False)
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(2)
    runtime.start_meeting_indexer()
    try:
        admin = new_key(runtime, "acme", "admin")
        reader = new_key(runtime, "acme", "reader")
        with serve_app(create_app(runtime=runtime)) as base:
            yield Console(base, runtime, admin["organization_id"], admin["key"], reader["key"])
    finally:
        runtime.close()
