"""Streamed answers (Server-Sent Events) and the generative answerer over HTTP.

The generative answerer talks to a recorded chat-completions server
(`tests.retrieval.test_generative`) wired into the runtime's query engine.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from kb_service.services.query_engine import build_query_engine
from retrieval.answer import NOT_FOUND
from tests.kb_service.query_support import Env, assert_sound
from tests.retrieval.test_generative import RECORDED, ChatServer  # recorded wire format


@pytest.fixture
def env(query_env: Env) -> Env:
    return query_env


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(lines) == {"event", "data"}, block
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def checked_stream(env: Env, kb: str, body: dict[str, Any], fallback: bool = False) -> Any:
    """Ask for a streamed answer, check every event against the SSE contract; the `done` data.

    Order: `citations`, `delta`s (an `error` only on a mid-answer LLM failure), `done`.
    The deltas concatenate to the draft, whose markers number the `citations` event's
    provisional sources. `done` is authoritative: its markers resolve to its own
    citations (renumbered 1..m, none unused); `used[i]` is the provisional number of
    `done.citations[i]`, so mapping `done.answer`'s markers back through `used` gives the
    draft (up to the whitespace tidied around dropped markers). With `fallback` the
    draft cited nothing and `done` carries the extractive answer instead.
    """
    r = env.query(kb, stream=True, **body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done", kinds
    assert "delta" in kinds and set(kinds[1:-1]) <= {"delta", "error"}, kinds
    provisional = events[0][1]["citations"]
    assert [c["index"] for c in provisional] == list(range(1, len(provisional) + 1))
    draft = "".join(data["text"] for kind, data in events if kind == "delta")
    assert {int(n) for n in re.findall(r"\[(\d+)\]", draft)} <= {c["index"] for c in provisional}
    done = events[-1][1]
    assert_sound(env, kb, done, every_sentence_cited=done["answerer"] == "extractive")
    if fallback:
        assert done["answerer"] == "extractive" and done["used"] == [] and done["notice"]
        return done
    used = done["used"]
    assert [c["chunk_id"] for c in done["citations"]] == [
        provisional[n - 1]["chunk_id"] for n in used
    ]
    back = re.sub(r"\[(\d+)\]", lambda m: f"[{used[int(m.group(1)) - 1]}]", done["answer"])
    assert re.sub(r"\s+", "", back) == re.sub(r"\s+", "", draft)
    return done


def test_streaming_extractive_answer(env: Env) -> None:
    done = checked_stream(env, env.main, {"query": "How are parking spaces allocated?"})  # type: ignore[attr-defined]
    assert done["answerer"] == "extractive" and "lottery" in done["answer"] and done["found"]
    assert done["used"] == [c["index"] for c in done["citations"]]  # provisional = final


@pytest.fixture
def llm(env: Env) -> Iterator[type[ChatServer]]:
    """The recorded chat-completions server, wired in as the generative answerer."""
    ChatServer.reset()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = env.runtime.settings.replace(
        llm_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", llm_model="m"
    )
    extractive_only = env.runtime.query_engine
    env.runtime.query_engine = build_query_engine(
        settings,
        embedder=env.runtime.embedder,
        sparse_encoder=env.runtime.sparse_encoder,
        index=env.runtime.index,
    )
    try:
        yield ChatServer
    finally:
        env.runtime.query_engine = extractive_only
        server.shutdown()
        server.server_close()


def test_generative_answerer_over_http_and_its_fallback(env: Env, llm: type[ChatServer]) -> None:
    kb = env.main  # type: ignore[attr-defined]
    question = "How do I reset my VPN access or my password?"  # two sources reach the LLM
    data = env.query(kb, question).json()["data"]
    assert (
        data["answerer"] == "generative"
        and "[7]" not in data["answer"]
        and RECORDED[:20] in data["answer"]
    )
    assert [c["index"] for c in data["citations"]] == [1, 2]
    assert_sound(env, kb, data, every_sentence_cited=False)  # the [7] claim lost its marker
    assert env.query(kb, "VPN", answerer="extractive").json()["data"]["answerer"] == "extractive"
    done = checked_stream(env, kb, {"query": question})
    assert done["answerer"] == "generative" and done["used"] == [2, 1]
    assert (done["answer"], done["citations"]) == (data["answer"], data["citations"])
    llm.fail_with = 503
    down = env.query(kb, question).json()["data"]
    assert down["answerer"] == "extractive" and "HTTP 503" in down["notice"] and down["citations"]
    done = checked_stream(env, kb, {"query": question})
    assert done["answerer"] == "extractive" and "HTTP 503" in done["notice"]


def test_generative_nothing_relevant_never_calls_the_model(env: Env, llm: type[ChatServer]) -> None:
    kb = env.main  # type: ignore[attr-defined]
    data = env.query(kb, "best banana bread recipe with walnuts").json()["data"]
    assert data["answer"] == NOT_FOUND and data["citations"] == [] and data["chunks"]
    done = checked_stream(env, kb, {"query": "best banana bread recipe with walnuts"})
    assert done["answer"] == NOT_FOUND and done["citations"] == [] and done["found"] is False
    assert llm.requests == []  # judged unanswerable: the model is never asked


def test_a_generative_reply_citing_nothing_falls_back_to_extractive(
    env: Env, llm: type[ChatServer]
) -> None:
    kb = env.main  # type: ignore[attr-defined]
    llm.reply = "Reset it in the self-service portal [9]. It takes a minute."  # [9]: no source
    data = env.query(kb, "How do I reset my VPN access?").json()["data"]
    assert len(llm.requests) == 1 and "portal [9]" not in data["answer"]
    assert data["answerer"] == "extractive" and "cited none of the sources" in data["notice"]
    assert data["citations"]
    assert_sound(env, kb, data)
    done = checked_stream(env, kb, {"query": "How do I reset my VPN access?"}, fallback=True)
    assert "cited none of the sources" in done["notice"] and done["citations"]
    assert (done["answer"], done["citations"]) == (data["answer"], data["citations"])
