"""The MCP server over Streamable HTTP: the SDK's real client against `/mcp` under uvicorn.

Tools list and answer with typed, structured results; every passage carries its span,
page or speaker and timestamp, and a link that really opens its source text; keys are
scoped to their organization and refused once revoked; bad arguments are tool errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.services import passages
from retrieval.embedding import Embedder
from tests.kb_service.live_servers import serve_app
from tests.kb_service.mcp.mcp_support import TOOLS, Corpus, error_text, ok, over_http


@pytest.fixture(scope="module")
def served(corpus: Corpus, embedder: Embedder) -> Iterator[str]:
    """The app over the corpus under uvicorn on loopback; yields its base URL."""
    runtime = Runtime.build(corpus.settings, embedder=embedder)
    try:
        with serve_app(create_app(runtime=runtime)) as base:
            yield base
    finally:
        runtime.close()


def key(corpus: Corpus, name: str) -> dict[str, str]:
    return {"X-API-Key": corpus.keys[name]}


def call(served: str, headers: dict[str, str], tool: str, **arguments: Any) -> Any:
    async def work(client: Client) -> Any:
        return await client.call_tool(tool, arguments)

    return over_http(served + "/mcp", headers, work)


def test_the_six_tools_have_typed_input_and_output_schemas(served: str, corpus: Corpus) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {t.name: t for t in over_http(served + "/mcp", key(corpus, "acme_reader"), work)}
    assert set(tools) == TOOLS
    search = tools["search"]
    assert search.input_schema["required"] == ["query"]
    assert {"query", "top_k", "scope"} <= set(search.input_schema["properties"])
    assert search.output_schema is not None
    assert "results" in search.output_schema["properties"]
    assert tools["fetch"].input_schema["required"] == ["id"]
    assert tools["answer"].input_schema["required"] == ["question"]
    assert "project_id" in tools["list_meetings"].input_schema["properties"]
    for tool in tools.values():
        assert tool.output_schema is not None and tool.annotations is not None
        assert tool.annotations.read_only_hint is True


def test_search_finds_a_pdf_passage_by_page_and_span(served: str, corpus: Corpus) -> None:
    result = call(served, key(corpus, "acme_reader"), "search", query="home office stipend")
    hits = ok(result)["results"]
    hit = hits[0]
    doc = corpus.documents["handbook.pdf"]
    assert hit["document_id"] == doc and hit["source_type"] == "pdf"
    assert hit["page_number"] in (1, 2, 3)
    assert corpus.texts[doc][hit["char_start"] : hit["char_end"]] == hit["text"]
    assert "600 euros" in hit["text"]
    assert hit["id"] == hit["chunk_id"] and hit["id"].startswith("chk_")
    assert hit["knowledge_base_id"] == corpus.kb and hit["title"]
    assert hit["url"] == (
        f"{served}/console/kb/{corpus.kb}/doc/{doc}#span={hit['char_start']}-{hit['char_end']}"
    )
    text = result.content[0].text
    assert hit["id"] in text and f"page {hit['page_number']}" in text and hit["url"] in text
    # the link is a page of the web console, which shows that document's text at the span
    link, _, fragment = hit["url"].partition("#span=")
    page = httpx.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/static/app.js">' in page.text
    opened = httpx.get(
        f"{served}/api/v1/knowledge-bases/{corpus.kb}/documents/{doc}?include_text=true",
        headers=key(corpus, "acme_reader"),
    ).json()["data"]["text"]
    start, end = (int(n) for n in fragment.split("-"))
    assert opened[start:end] == hit["text"]


def test_search_finds_a_meeting_passage_by_speaker_and_timestamp(
    served: str, corpus: Corpus
) -> None:
    result = call(
        served,
        key(corpus, "acme_reader"),
        "search",
        query="resize the staging Kafka cluster",
        scope={"project_ids": [corpus.project]},
        top_k=3,
    )
    hit = next(h for h in ok(result)["results"] if h["source_type"] == "meeting")
    transcript = corpus.transcript
    assert hit["meeting_id"] == corpus.meeting
    assert transcript["text"][hit["char_start"] : hit["char_end"]] == hit["text"]
    first = next(s for s in transcript["segments"] if s["char_end"] > hit["char_start"])
    assert (hit["speaker"], hit["timestamp"]) == (first["speaker"], first["timestamp"])
    assert hit["id"] == f"{corpus.meeting}:{hit['char_start']}-{hit['char_end']}"
    assert hit["url"] == (
        f"{served}/console/meetings/{corpus.meeting}#span={hit['char_start']}-{hit['char_end']}"
    )
    assert hit["page_number"] is None and hit["document_id"] is None
    # fetching the hit gives every segment in it with its speaker and time
    fetched_result = call(served, key(corpus, "acme_reader"), "fetch", id=hit["id"])
    fetched = ok(fetched_result)
    assert fetched["kind"] == "meeting" and fetched["text"] == hit["text"]
    said = {
        fetched["text"][s["char_start"] - hit["char_start"] : s["char_end"] - hit["char_start"]]: (
            s["speaker"],
            s["timestamp"],
        )
        for s in fetched["segments"]
    }
    resized = "I need the staging Kafka cluster resized, I asked in the platform channel."
    assert said[resized] == ("Tomas Eriksen", 32.0)
    assert f"[0:32] Tomas Eriksen: {resized}" in fetched_result.content[0].text


def test_fetch_reads_a_chunk_a_document_and_a_span(served: str, corpus: Corpus) -> None:
    headers = key(corpus, "acme_reader")
    hit = ok(call(served, headers, "search", query="lost laptop", top_k=1))["results"][0]
    chunk = ok(call(served, headers, "fetch", id=hit["id"]))
    assert chunk["kind"] == "chunk" and chunk["text"] == hit["text"]
    assert (chunk["char_start"], chunk["char_end"], chunk["page_number"]) == (
        hit["char_start"],
        hit["char_end"],
        hit["page_number"],
    )
    doc = hit["document_id"]
    whole = ok(call(served, headers, "fetch", id=doc))
    assert whole["kind"] == "document" and whole["text"] == corpus.texts[doc]
    assert not whole["truncated"] and whole["char_end"] == len(corpus.texts[doc])
    span = ok(call(served, headers, "fetch", id=f"{doc}:10-60"))
    assert span["text"] == corpus.texts[doc][10:60] and span["url"].endswith("#span=10-60")
    meeting = ok(call(served, headers, "fetch", id=corpus.meeting))
    assert meeting["text"] == corpus.transcript["text"]
    assert len(meeting["segments"]) == len(corpus.transcript["segments"]) == 15


def test_a_long_source_is_cut_and_read_on_by_span(
    served: str, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passages, "MAX_PASSAGE_CHARS", 100)  # the server runs in this process
    headers = key(corpus, "acme_reader")
    doc = corpus.documents["runbook.md"]
    text = corpus.texts[doc]
    first = ok(call(served, headers, "fetch", id=doc))
    assert first["truncated"] and first["text"] == text[:100] and first["char_end"] == 100
    rest = ok(call(served, headers, "fetch", id=f"{doc}:100-{len(text)}"))
    assert rest["text"] == text[100:200] and rest["char_start"] == 100


def test_answer_cites_every_claim_with_its_exact_span(served: str, corpus: Corpus) -> None:
    result = call(
        served, key(corpus, "acme_reader"), "answer", question="How large is the meal allowance?"
    )
    data = ok(result)
    assert data["found"] is True and data["answerer"] == "extractive"
    markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])})
    assert markers == [c["index"] for c in data["citations"]] and markers
    for c in data["citations"]:
        source = corpus.texts[c["document_id"]]
        assert source[c["char_start"] : c["char_end"]] == c["text"]
        assert c["url"].endswith(f"#span={c['char_start']}-{c['char_end']}")
        assert c["id"].startswith("chk_") and c["page_number"] is not None
    assert any("45 euros" in c["text"] for c in data["citations"])
    assert "Sources:" in result.content[0].text
    assert data["confidence"] >= 0.5 and data["reason"] is None


def test_an_unanswerable_question_is_refused_with_its_reason(served: str, corpus: Corpus) -> None:
    question = "What is the dress code for client meetings?"
    result = call(served, key(corpus, "acme_reader"), "answer", question=question)
    data = ok(result)
    assert data["found"] is False and data["citations"] == [] and data["confidence"] < 0.5
    assert data["reason"].startswith("The closest passages do not mention")
    assert data["reason"] in result.content[0].text


def test_answer_about_a_meeting_cites_the_speaker_of_the_sentence(
    served: str, corpus: Corpus
) -> None:
    data = ok(
        call(
            served,
            key(corpus, "acme_reader"),
            "answer",
            question="Who will resize the staging Kafka cluster?",
            scope={"project_ids": [corpus.project]},
        )
    )
    cited = [c for c in data["citations"] if c["meeting_id"] == corpus.meeting]
    assert cited
    for c in cited:
        assert corpus.transcript["text"][c["char_start"] : c["char_end"]] == c["text"]
        # the segment the cited sentence belongs to (a turn's first sentence starts at
        # the "Speaker: " prefix, before the segment's own text)
        segment = next(s for s in corpus.transcript["segments"] if s["char_end"] > c["char_start"])
        assert segment["text"] in c["text"] or c["text"] in segment["text"]
        assert (c["speaker"], c["timestamp"]) == (segment["speaker"], segment["timestamp"])
    assert any(c["speaker"] == "Priya Natarajan" for c in cited), cited


def test_lists_show_only_the_keys_organization(served: str, corpus: Corpus) -> None:
    acme, globex = key(corpus, "acme_reader"), key(corpus, "globex_reader")
    kbs = ok(call(served, acme, "list_knowledge_bases"))
    assert [k["id"] for k in kbs["items"]] == [corpus.kb]
    assert kbs["items"][0]["document_count"] == 2 and kbs["next_cursor"] is None
    assert [k["id"] for k in ok(call(served, globex, "list_knowledge_bases"))["items"]] == [
        corpus.other_kb
    ]
    projects = ok(call(served, acme, "list_projects"))["items"]
    assert [(p["id"], p["meeting_count"]) for p in projects] == [(corpus.project, 1)]
    assert ok(call(served, globex, "list_projects"))["items"] == []
    for arguments in ({}, {"project_id": corpus.project}):
        meetings = ok(call(served, acme, "list_meetings", **arguments))["items"]
        assert [(m["id"], m["status"], m["segment_count"]) for m in meetings] == [
            (corpus.meeting, "indexed", 15)
        ]
        assert meetings[0]["url"] == f"{served}/console/meetings/{corpus.meeting}"
    assert ok(call(served, globex, "list_meetings"))["items"] == []


def test_another_organizations_ids_are_not_found(served: str, corpus: Corpus) -> None:
    globex = key(corpus, "globex_reader")
    acme_chunk = ok(call(served, key(corpus, "acme_reader"), "search", query="lost laptop"))[
        "results"
    ][0]["id"]
    for passage in (acme_chunk, corpus.documents["handbook.pdf"], corpus.meeting):
        assert "not_found" in error_text(call(served, globex, "fetch", id=passage))
    for scope in ({"knowledge_base_ids": [corpus.kb]}, {"project_ids": [corpus.project]}):
        refused = call(served, globex, "search", query="laptop", scope=scope)
        assert "not_found" in error_text(refused)
    assert "not_found" in error_text(
        call(served, globex, "list_meetings", project_id=corpus.project)
    )
    # unscoped, globex's search sees only globex's notes
    hits = ok(call(served, globex, "search", query="home office stipend", top_k=10))["results"]
    assert hits and {h["document_id"] for h in hits} == {corpus.documents["notes.txt"]}


def test_bad_arguments_are_tool_errors(served: str, corpus: Corpus) -> None:
    headers = key(corpus, "acme_reader")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("search", {}, "query"),
        ("search", {"query": ""}, "query"),
        ("search", {"query": "   "}, "The query is empty"),
        ("search", {"query": "laptop", "top_k": 0}, "top_k"),
        ("search", {"query": "laptop", "scope": {"kb": "x"}}, "scope"),
        ("fetch", {"id": "chk_doesnotexist"}, "not_found"),
        ("fetch", {"id": "nonsense"}, "not_found"),
        ("fetch", {"id": f"{corpus.documents['runbook.md']}:50-10"}, "span"),
        ("list_knowledge_bases", {"cursor": "garbage"}, "validation_error"),
        ("list_projects", {"limit": 1000}, "limit"),
        ("no_such_tool", {}, "no_such_tool"),
    ]
    for tool, arguments, expected in cases:
        result = call(served, headers, tool, **arguments)
        assert expected in error_text(result), (tool, arguments)
