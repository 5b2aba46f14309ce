"""Helpers of the MCP tests: the shared corpus, and the SDK's real client over HTTP or stdio."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import httpx2
from fastapi.testclient import TestClient
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from kb_service.settings import Settings
from tests.conftest import ROOT

API = "/api/v1"
TOOLS = {"search", "fetch", "answer", "list_knowledge_bases", "list_projects", "list_meetings"}
T = TypeVar("T")


@dataclass
class Corpus:
    settings: Settings
    acme: str  # organization ids
    globex: str
    keys: dict[str, str]  # acme_admin, acme_reader, globex_reader
    project: str = ""
    kb: str = ""  # acme's: handbook.pdf and runbook.md
    other_kb: str = ""  # globex's: notes.txt
    meeting: str = ""
    documents: dict[str, str] = field(default_factory=dict)  # source file name -> id
    texts: dict[str, str] = field(default_factory=dict)  # document id -> extracted text
    transcript: dict[str, Any] = field(default_factory=dict)  # GET /meetings/{id}/transcript

    def read_sources(self, client: TestClient) -> None:
        """Record what the REST API says the sources' texts are (what spans index into)."""
        for kb, key in ((self.kb, "acme_admin"), (self.other_kb, "globex_reader")):
            headers = {"X-API-Key": self.keys[key]}
            listed = client.get(f"{API}/knowledge-bases/{kb}/documents", headers=headers)
            for doc in listed.json()["data"]:
                self.documents[doc["source"]] = doc["id"]
                one = client.get(
                    f"{API}/knowledge-bases/{kb}/documents/{doc['id']}?include_text=true",
                    headers=headers,
                )
                self.texts[doc["id"]] = one.json()["data"]["text"]
        headers = {"X-API-Key": self.keys["acme_admin"]}
        got = client.get(f"{API}/meetings/{self.meeting}/transcript", headers=headers)
        self.transcript = got.json()["data"]


@asynccontextmanager
async def http_client(url: str, headers: dict[str, str]) -> AsyncIterator[Client]:
    """The SDK's client over Streamable HTTP with these headers (the API key)."""
    timeout = httpx2.Timeout(60.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def over_http(url: str, headers: dict[str, str], work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect to `url`, run `work` with the client, disconnect."""

    async def main() -> T:
        async with http_client(url, headers) as client:
            return await work(client)

    return anyio.run(main)


def stdio_server(settings: Settings, api_key: str) -> StdioServerParameters:
    """`python -m kb_service.cli mcp` on the corpus's data directory, as `api_key`."""
    env = {
        "KB_API_KEY": api_key,
        "KB_DATA_DIR": str(settings.storage.data_dir),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    for name in ("HOME", "TMPDIR", "KB_DATABASE_URL", "CUDA_VISIBLE_DEVICES"):
        if name in os.environ:
            env.setdefault(name, os.environ[name])
    return StdioServerParameters(
        command=sys.executable, args=["-m", "kb_service.cli", "mcp"], env=env, cwd=str(ROOT)
    )


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful call."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.content and result.content[0].type == "text"
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    """The message of a failed call (a tool error, not a crash)."""
    assert result.is_error, result.structured_content
    assert result.content[0].type == "text"
    return result.content[0].text


def refusal(url: str, headers: dict[str, str], work: Callable[[Client], Awaitable[Any]]) -> Any:
    """The `MCPError` the client raises when the server refuses the connection or a call."""
    from mcp import MCPError

    try:
        over_http(url, headers, work)
    except BaseException as exc:  # the client raises it inside (nested) task groups
        leaves = [exc]
        while any(isinstance(e, BaseExceptionGroup) for e in leaves):
            leaves = [x for e in leaves for x in getattr(e, "exceptions", [e])]
        errors = [e for e in leaves if isinstance(e, MCPError)]
        assert errors, f"not refused with an MCPError: {exc!r}"
        return errors[0]
    raise AssertionError("the server did not refuse")
