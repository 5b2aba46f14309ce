"""The `corpus` fixture: two organizations' content, ingested once through the REST API.

Organization "acme" has a project with a knowledge base (the handbook PDF and the
runbook) and the stand-up meeting; "globex" has a knowledge base of the office-move
notes. The runtime is closed again afterwards, so the MCP tests can open the data
directory themselves: in-process for HTTP, in a `kb-service mcp` subprocess for stdio
(an embedded Qdrant Edge shard is open in one process at a time).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS, make_settings, new_key, wait_for_job
from tests.kb_service.mcp.mcp_support import API, Corpus
from tests.kb_service.meeting_support import STANDUP, wait_for_meeting


@pytest.fixture(scope="package")
def corpus(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Corpus]:
    settings = make_settings(tmp_path_factory.mktemp("mcp"))
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(1)
    runtime.start_meeting_indexer()
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            acme, globex = new_key(runtime, "acme"), new_key(runtime, "globex")
            keys = {
                "acme_admin": acme["key"],
                "acme_reader": new_key(runtime, "acme", "reader")["key"],
                "globex_reader": new_key(runtime, "globex", "reader")["key"],
            }
            c = Corpus(settings, acme["organization_id"], globex["organization_id"], keys)

            def post(path: str, key: str, **kwargs: object) -> dict[str, object]:
                response = client.post(API + path, headers={"X-API-Key": key}, **kwargs)  # type: ignore[arg-type]
                assert response.status_code in (201, 202), response.text
                return response.json()["data"]  # type: ignore[no-any-return]

            def ingest(kb: str, key: str, names: list[str]) -> None:
                files = [("files", (n, (SAMPLE_DOCS / n).read_bytes())) for n in names]
                job = post(f"/knowledge-bases/{kb}/ingest", key, files=files)
                done = wait_for_job(client, str(job["id"]), {"X-API-Key": key})
                assert done["status"] == "completed", done

            c.project = str(post("/projects", acme["key"], json={"name": "Payments"})["id"])
            kb = post(
                "/knowledge-bases", acme["key"], json={"name": "Handbook", "project_id": c.project}
            )
            c.kb = str(kb["id"])
            ingest(c.kb, acme["key"], ["handbook.pdf", "runbook.md"])
            c.other_kb = str(post("/knowledge-bases", globex["key"], json={"name": "Office"})["id"])
            ingest(c.other_kb, globex["key"], ["notes.txt"])
            meeting = post("/meetings", acme["key"], json={**STANDUP, "project_id": c.project})
            c.meeting = str(meeting["id"])
            wait_for_meeting(client, c.meeting, {"X-API-Key": acme["key"]})
            c.read_sources(client)
    finally:
        runtime.close()
    yield c
