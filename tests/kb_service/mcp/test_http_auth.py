"""`/mcp` authenticates and limits like the REST API: the same keys, headers and buckets.

A missing, unknown or revoked key is refused with 401 before the SDK sees the request
(the client raises the sentence); revocation takes effect on the next request of an
open connection; `X-Organization-Id` must match; a reader key may use every tool; the
rate limit is the REST API's bucket per key; links follow `KB_PUBLIC_URL`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.services.keys import create_api_key, revoke_api_key
from retrieval.embedding import Embedder
from tests.kb_service.live_servers import serve_app
from tests.kb_service.mcp.mcp_support import TOOLS, Corpus, error_text, ok, over_http, refusal


@pytest.fixture(scope="module")
def runtime(corpus: Corpus, embedder: Embedder) -> Iterator[Runtime]:
    rt = Runtime.build(corpus.settings, embedder=embedder)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def served(runtime: Runtime) -> Iterator[str]:
    with serve_app(create_app(runtime=runtime)) as base:
        yield base + "/mcp"


async def list_tools(client: Client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}


def test_bearer_and_x_api_key_headers_both_authenticate(served: str, corpus: Corpus) -> None:
    secret = corpus.keys["acme_reader"]
    assert over_http(served, {"Authorization": f"Bearer {secret}"}, list_tools) == TOOLS
    assert over_http(served, {"X-API-Key": secret}, list_tools) == TOOLS


@pytest.mark.parametrize(
    ("headers", "sentence"),
    [
        ({}, "Send an API key"),
        ({"X-API-Key": "sk_not_a_key"}, "not valid"),
        ({"Authorization": "Basic c2tfeDp5"}, "Send an API key"),
    ],
)
def test_without_a_valid_key_nothing_is_served(
    served: str, headers: dict[str, str], sentence: str
) -> None:
    error = refusal(served, headers, list_tools)
    assert sentence in error.message and error.data["code"] == "unauthorized"
    raw = httpx.post(
        served, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
    )
    assert raw.status_code == 401 and raw.headers["www-authenticate"].startswith("Bearer")
    assert raw.json()["error"]["message"] == error.message


def test_a_revoked_key_is_refused_on_its_next_request(
    served: str, corpus: Corpus, runtime: Runtime
) -> None:
    key, secret = create_api_key(runtime.db, organization_id=corpus.acme, role="reader")

    async def work(client: Client) -> Any:
        before = ok(await client.call_tool("list_knowledge_bases", {}))
        revoke_api_key(runtime.db, organization_id=corpus.acme, key_id=key.id)
        await client.call_tool("list_knowledge_bases", {})  # refused: raises
        return before

    error = refusal(served, {"X-API-Key": secret}, work)
    assert "revoked" in error.message and error.data["code"] == "unauthorized"
    assert "revoked" in refusal(served, {"X-API-Key": secret}, list_tools).message


def test_the_organization_header_must_be_the_keys(served: str, corpus: Corpus) -> None:
    secret = corpus.keys["acme_reader"]
    error = refusal(served, {"X-API-Key": secret, "X-Organization-Id": corpus.globex}, list_tools)
    assert error.data["code"] == "forbidden"
    same = {"X-API-Key": secret, "X-Organization-Id": corpus.acme}
    assert over_http(served, same, list_tools) == TOOLS


def test_a_reader_key_can_use_every_tool(served: str, corpus: Corpus) -> None:
    arguments: dict[str, dict[str, Any]] = {
        "search": {"query": "incident runbook"},
        "answer": {"question": "What is the remote work policy?"},
        "fetch": {"id": corpus.documents["runbook.md"]},
        "list_knowledge_bases": {},
        "list_projects": {},
        "list_meetings": {"project_id": corpus.project},
    }
    assert set(arguments) == TOOLS

    async def work(client: Client) -> dict[str, Any]:
        return {name: ok(await client.call_tool(name, args)) for name, args in arguments.items()}

    results = over_http(served, {"X-API-Key": corpus.keys["acme_reader"]}, work)
    assert results["search"]["results"] and results["answer"]["citations"]
    assert results["fetch"]["text"] == corpus.texts[corpus.documents["runbook.md"]]


def test_tool_calls_spend_the_rest_apis_bucket_and_links_follow_the_public_url(
    corpus: Corpus, runtime: Runtime
) -> None:
    settings = runtime.settings.replace(
        rate_limit_burst=3, rate_limit_per_second=0.01, public_url="https://kb.example.com/"
    )
    limited = dataclasses.replace(runtime, settings=settings)
    secret = corpus.keys["acme_reader"]
    with serve_app(create_app(runtime=limited)) as base:
        rest = httpx.get(f"{base}/api/v1/knowledge-bases", headers={"X-API-Key": secret})
        assert rest.status_code == 200  # one of the three tokens

        async def work(client: Client) -> list[Any]:
            return [
                await client.call_tool("search", {"query": "lost laptop", "top_k": 1}),
                await client.call_tool("list_projects", {}),
                await client.call_tool("list_projects", {}),
            ]

        # a real host name passes (no DNS-rebinding Host check on an authenticated endpoint)
        headers = {"X-API-Key": secret, "Host": "kb.example.com"}
        hit, listed, limited_call = over_http(f"{base}/mcp", headers, work)
        assert ok(hit)["results"][0]["url"].startswith(
            f"https://kb.example.com/console/kb/{corpus.kb}/doc/"
        )
        assert ok(listed)["items"]
        assert "rate_limited" in error_text(limited_call) and "retry in" in error_text(limited_call)
        rest = httpx.get(f"{base}/api/v1/knowledge-bases", headers={"X-API-Key": secret})
        assert rest.status_code == 429
