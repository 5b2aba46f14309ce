"""The MCP tools with a scoped key, through the SDK's client over Streamable HTTP.

The key is limited to one project: its tools list only that project, its knowledge base
and its meetings, search only its passages, and fetching a passage outside it is a
`not_found` tool error, as another organization's passage is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.services.keys import create_api_key
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key, wait_for_job
from tests.kb_service.live_servers import serve_app
from tests.kb_service.mcp.mcp_support import API, error_text, ok, over_http

INSIDE_TEXT = "The inside launch date of the rocket is Friday."
OUTSIDE_TEXT = "The outside launch date of the rocket is Monday; the vault code is walrus."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[dict[str, Any]]:
    """Two projects with a knowledge base and a meeting each, served under uvicorn."""
    runtime = Runtime.build(
        make_settings(Path(tmp_path_factory.mktemp("scopes"))), embedder=embedder
    )
    runtime.start_workers(1)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            admin = new_key(runtime)
            h = {"X-API-Key": admin["key"]}

            def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                response = client.post(API + path, json=body, headers=h)
                assert response.status_code in (201, 202), response.text
                return response.json()["data"]  # type: ignore[no-any-return]

            w: dict[str, Any] = {"admin": h}
            for side, text in (("in", INSIDE_TEXT), ("out", OUTSIDE_TEXT)):
                project = post("/projects", {"name": side})["id"]
                kb = post("/knowledge-bases", {"name": side, "project_id": project})["id"]
                job = post(f"/knowledge-bases/{kb}/ingest", {"documents": [{"text": text}]})
                done = wait_for_job(client, job["id"], h)
                segments = [{"speaker": "Ana", "text": text, "timestamp": 1.0}]
                meeting = post(
                    "/meetings", {"title": side, "project_id": project, "segments": segments}
                )
                w[side] = {
                    "project": project,
                    "kb": kb,
                    "document": done["documents"][0]["document_id"],
                    "meeting": meeting["id"],
                }
            _, secret = create_api_key(
                runtime.db,
                organization_id=admin["organization_id"],
                role="reader",
                scopes={"project_ids": [w["in"]["project"]]},
            )
            w["scoped"] = {"X-API-Key": secret}
        with serve_app(create_app(runtime=runtime)) as base:
            w["mcp"] = base + "/mcp"
            yield w
    finally:
        runtime.close()


def call(world: dict[str, Any], headers: dict[str, str], tool: str, **arguments: Any) -> Any:
    async def work(client: Client) -> Any:
        return await client.call_tool(tool, arguments)

    return over_http(world["mcp"], headers, work)


def test_the_lists_show_only_what_is_inside(world: dict[str, Any]) -> None:
    scoped, inside = world["scoped"], world["in"]
    kbs = ok(call(world, scoped, "list_knowledge_bases"))["items"]
    assert [k["id"] for k in kbs] == [inside["kb"]]
    projects = ok(call(world, scoped, "list_projects"))["items"]
    assert [p["id"] for p in projects] == [inside["project"]]
    meetings = ok(call(world, scoped, "list_meetings"))["items"]
    assert [m["id"] for m in meetings] == [inside["meeting"]]
    # the admin's key sees both sides, so the lists above are narrowed, not short
    assert len(ok(call(world, world["admin"], "list_knowledge_bases"))["items"]) == 2


def test_search_and_fetch_stay_inside(world: dict[str, Any]) -> None:
    scoped, inside, outside = world["scoped"], world["in"], world["out"]
    hits = ok(call(world, scoped, "search", query="launch date vault code walrus", top_k=10))
    assert hits["results"]
    assert {h["knowledge_base_id"] for h in hits["results"]} == {inside["kb"]}
    assert "walrus" not in str(hits["results"])
    fetched = ok(call(world, scoped, "fetch", id=hits["results"][0]["id"]))
    assert "Friday" in fetched["text"]
    admin_hits = ok(call(world, world["admin"], "search", query="vault code walrus", top_k=10))
    outside_chunks = [
        h["id"] for h in admin_hits["results"] if h.get("knowledge_base_id") == outside["kb"]
    ]
    assert outside_chunks
    for passage in (outside_chunks[0], outside["document"], outside["meeting"]):
        assert "not_found" in error_text(call(world, scoped, "fetch", id=passage)), passage
    named = call(
        world, scoped, "search", query="vault", scope={"knowledge_base_ids": [outside["kb"]]}
    )
    assert "not_found" in error_text(named)
    answer = ok(call(world, scoped, "answer", question="When is the launch date of the rocket?"))
    assert "walrus" not in str(answer) and "Monday" not in str(answer)
