"""The MCP server over stdio: `python -m kb_service.cli mcp` as a real subprocess.

The SDK's client launches it with `KB_API_KEY` and the corpus's data directory; the
same tools answer with the same spans as over HTTP, scoped to the key's organization,
and a key revoked while the process runs is refused on the next call. Without a valid
key the process does not start serving: it exits with status 2 and says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import stdio_client

from kb_service.db.database import Database
from kb_service.services.keys import create_api_key, revoke_api_key
from tests.conftest import ROOT
from tests.kb_service.mcp.mcp_support import TOOLS, Corpus, error_text, ok, stdio_server


@contextmanager
def metadata(corpus: Corpus) -> Iterator[Database]:
    db = Database(corpus.settings.resolved_database_url)
    try:
        yield db
    finally:
        db.dispose()


def test_every_tool_over_stdio_scoped_to_the_key_and_refused_once_revoked(
    corpus: Corpus,
) -> None:
    with metadata(corpus) as db:
        key, secret = create_api_key(db, organization_id=corpus.acme, role="reader")
    params = stdio_server(corpus.settings, secret)
    results: dict[str, Any] = {}

    async def session(errlog: Any) -> None:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            results["tools"] = {t.name for t in (await client.list_tools()).tools}

            async def call(tool: str, **arguments: Any) -> Any:
                return await client.call_tool(tool, arguments)

            results["pdf"] = ok(await call("search", query="home office stipend", top_k=1))
            results["meeting"] = ok(
                await call(
                    "search",
                    query="resize the staging Kafka cluster",
                    scope={"project_ids": [corpus.project]},
                    top_k=3,
                )
            )
            results["fetched"] = ok(await call("fetch", id=results["pdf"]["results"][0]["id"]))
            results["answer"] = ok(
                await call("answer", question="How large is the meal allowance?")
            )
            results["kbs"] = ok(await call("list_knowledge_bases"))
            results["projects"] = ok(await call("list_projects"))
            results["meetings"] = ok(await call("list_meetings", project_id=corpus.project))
            results["other_org"] = error_text(await call("fetch", id=corpus.documents["notes.txt"]))
            results["other_scope"] = error_text(
                await call(
                    "search", query="parking", scope={"knowledge_base_ids": [corpus.other_kb]}
                )
            )
            results["bad"] = error_text(await call("search", query="laptop", top_k=0))
            with metadata(corpus) as db:
                revoke_api_key(db, organization_id=corpus.acme, key_id=key.id)
            results["revoked"] = error_text(await call("list_projects"))

    with tempfile.TemporaryFile("w+") as errlog:
        try:
            anyio.run(session, errlog)
        except BaseException:
            errlog.seek(0)
            print(errlog.read(), file=sys.stderr)
            raise

    assert results["tools"] == TOOLS
    hit = results["pdf"]["results"][0]
    doc = corpus.documents["handbook.pdf"]
    assert hit["document_id"] == doc and hit["page_number"] in (1, 2, 3)
    assert corpus.texts[doc][hit["char_start"] : hit["char_end"]] == hit["text"]
    # no request to take a base URL from: links point where `serve` listens
    assert hit["url"].startswith(f"http://127.0.0.1:8000/console/kb/{corpus.kb}/doc/")
    meeting = next(h for h in results["meeting"]["results"] if h["source_type"] == "meeting")
    assert meeting["meeting_id"] == corpus.meeting and meeting["speaker"]
    assert isinstance(meeting["timestamp"], float)
    text = corpus.transcript["text"]
    assert text[meeting["char_start"] : meeting["char_end"]] == meeting["text"]
    assert results["fetched"]["text"] == hit["text"]
    assert any("45 euros" in c["text"] for c in results["answer"]["citations"])
    assert [k["id"] for k in results["kbs"]["items"]] == [corpus.kb]
    assert [p["id"] for p in results["projects"]["items"]] == [corpus.project]
    assert [m["id"] for m in results["meetings"]["items"]] == [corpus.meeting]
    assert "not_found" in results["other_org"] and "not_found" in results["other_scope"]
    assert "top_k" in results["bad"]
    assert "unauthorized" in results["revoked"] and "revoked" in results["revoked"]


@pytest.mark.parametrize("api_key", ["", "sk_unknown", "revoked"])
def test_without_a_valid_key_the_server_does_not_start(corpus: Corpus, api_key: str) -> None:
    if api_key == "revoked":
        with metadata(corpus) as db:
            key, api_key = create_api_key(db, organization_id=corpus.acme, role="reader")
            revoke_api_key(db, organization_id=corpus.acme, key_id=key.id)
    params = stdio_server(corpus.settings, api_key)
    done = subprocess.run(
        [params.command, *params.args],
        env={**os.environ, **(params.env or {})},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "KB_API_KEY" in done.stderr and done.stdout == ""
