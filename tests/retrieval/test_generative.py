"""The generative answerer's client against a real local HTTP server.

The server speaks the OpenAI chat-completions wire format (JSON and SSE streaming) and
replies with a recorded, deterministic answer: it is a protocol fixture, not a model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from retrieval.answer import NOT_FOUND, Answer, Passage, citation_problems, passage_citation
from retrieval.chat import ChatClient, ChatConfig
from retrieval.errors import LlmUnavailable, UncitedAnswer
from retrieval.generative import GenerativeAnswerer, StreamEvent, repair_markers

# Marker spellings real models produce, plus one that names no source ([7]).
RECORDED = (
    "Profiles expire every 90 days [Source 2]. Regenerate the profile in the portal [2, 1]. "
    "The helpdesk is at extension 4242 [7]."
)


class ChatServer(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    fail_with: int | None = None
    reply: str = RECORDED  # what the "model" says; tests swap in other recorded replies

    @classmethod
    def reset(cls) -> None:
        cls.requests, cls.fail_with, cls.reply = [], None, RECORDED

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ChatServer.requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        if ChatServer.fail_with:
            self.send_response(ChatServer.fail_with)
            self.end_headers()
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            reply = ChatServer.reply
            for i in range(0, len(reply), 7):  # 7-char pieces split markers mid-way
                chunk = {"choices": [{"index": 0, "delta": {"content": reply[i : i + 7]}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        reply = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ChatServer.reply},
                    "finish_reason": "stop",
                }
            ],
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def llm_url() -> Iterator[str]:
    ChatServer.reset()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def passages(similarities: tuple[float, float, float] = (0.5, 0.5, 0.5)) -> list[Passage]:
    texts = [
        "Open the self-service portal and choose 'Regenerate VPN profile'.",
        "VPN profiles expire every 90 days.",
        "The cafeteria is closed on Sundays.",
    ]
    return [
        Passage(
            f"chk_{i}",
            f"doc_{i}",
            "kb_1",
            f"FAQ {i}",
            f"faq-{i}.json",
            None,
            100 * i,
            100 * i + len(t),
            t,
            1 / (i + 1),
            similarities[i],
        )
        for i, t in enumerate(texts)
    ]


def answerer(url: str, min_similarity: float = 0.25) -> GenerativeAnswerer:
    return GenerativeAnswerer(
        ChatClient(
            ChatConfig(base_url=url, model="test-model", api_key="sk-test", timeout_seconds=5)
        ),
        min_similarity=min_similarity,
    )


def as_answer(done: StreamEvent, sources: list[Passage]) -> Answer:
    """The `done` event as an `Answer`, its citations matched back to the passages."""
    by_chunk = {p.chunk_id: p for p in sources}
    cited = [passage_citation(c["index"], by_chunk[c["chunk_id"]]) for c in done.data["citations"]]
    return Answer(done.data["answer"], cited, done.data["answerer"], done.data["found"])


def test_sources_are_numbered_and_markers_validated(llm_url: str) -> None:
    answer = answerer(llm_url).answer("How do I fix my VPN?", passages())
    request = ChatServer.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "test-model"
    prompt = request["body"]["messages"][-1]["content"]
    assert (
        "[1] (FAQ 0)" in prompt
        and "[3] (FAQ 2)" in prompt
        and "Question: How do I fix my VPN?" in prompt
    )
    # [Source 2] -> [1] (first used), [2, 1] -> [1][2], [7] dropped; renumbered by first use
    assert answer.text == (
        "Profiles expire every 90 days [1]. Regenerate the profile in the portal [1][2]. "
        "The helpdesk is at extension 4242."
    )
    assert answer.answerer == "generative"
    assert [c.passage.chunk_id for c in answer.citations] == ["chk_1", "chk_0"]
    assert citation_problems(answer) == []


def test_streaming_sends_citations_then_deltas_then_done(llm_url: str) -> None:
    sources = passages()
    events = list(answerer(llm_url).stream("How do I fix my VPN?", sources))
    kinds = [e.event for e in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    assert [c["index"] for c in events[0].data["citations"]] == [1, 2, 3]
    streamed = "".join(e.data["text"] for e in events if e.event == "delta")
    assert (
        "[7]" not in streamed and "Source" not in streamed
    )  # never leaked, even split across chunks
    assert "[2]" in streamed and "[2][1]" in streamed  # the provisional (prompt) numbering
    done = events[-1]
    # authoritative: renumbered by first use, only the used sources, same as `answer`
    assert done.data["answer"] == answerer(llm_url).answer("q", sources).text
    assert done.data["used"] == [2, 1] and done.data["answerer"] == "generative"
    assert [c["chunk_id"] for c in done.data["citations"]] == ["chk_1", "chk_0"]
    assert citation_problems(as_answer(done, sources)) == []


def test_passages_under_the_threshold_never_reach_the_model(llm_url: str) -> None:
    # only the two passages at or above 0.3 are sent, numbered 1..2 in retrieval order
    answer = answerer(llm_url, min_similarity=0.3).answer("VPN?", passages((0.2, 0.3, 0.6)))
    prompt = ChatServer.requests[0]["body"]["messages"][-1]["content"]
    assert "[1] (FAQ 1)" in prompt and "[2] (FAQ 2)" in prompt and "FAQ 0" not in prompt
    assert [c.passage.chunk_id for c in answer.citations] == ["chk_2", "chk_1"]  # [2] then [1]
    assert citation_problems(answer) == []

    ChatServer.requests = []
    weak = passages((0.1, 0.29, 0.0))
    nothing = answerer(llm_url, min_similarity=0.3).answer("VPN?", weak)
    assert nothing.text == NOT_FOUND and nothing.citations == [] and not nothing.found
    events = list(answerer(llm_url, min_similarity=0.3).stream("VPN?", weak))
    assert [e.event for e in events] == ["citations", "delta", "done"]
    assert events[0].data["citations"] == [] and events[-1].data["citations"] == []
    assert events[-1].data["answer"] == NOT_FOUND and events[-1].data["found"] is False
    assert ChatServer.requests == []  # the model was never asked


def test_a_reply_that_cites_nothing_is_not_an_answer(llm_url: str) -> None:
    # its only marker names no source, so after repair nothing in it is checkable
    ChatServer.reply = "Profiles expire every 90 days [7]. Call the helpdesk."
    with pytest.raises(UncitedAnswer, match="cited none of the sources"):
        answerer(llm_url).answer("VPN?", passages())
    assert issubclass(UncitedAnswer, LlmUnavailable)  # the service's fallback catches it
    events: list[StreamEvent] = []
    with pytest.raises(UncitedAnswer):
        for event in answerer(llm_url).stream("VPN?", passages()):
            events.append(event)
    kinds = [e.event for e in events]
    assert kinds[0] == "citations" and set(kinds[1:]) == {"delta"}  # no `done`: it raised
    assert "[7]" not in "".join(e.data.get("text", "") for e in events)


def test_the_models_not_found_reply_is_the_plain_not_found_answer(llm_url: str) -> None:
    ChatServer.reply = f'"{NOT_FOUND}"'  # quoted, as models do with "reply exactly"
    answer = answerer(llm_url).answer("Who won the 1998 World Cup?", passages())
    assert (answer.text, answer.citations, answer.found) == (NOT_FOUND, [], False)
    done = list(answerer(llm_url).stream("Who won the 1998 World Cup?", passages()))[-1]
    assert done.data["answer"] == NOT_FOUND and done.data["citations"] == []


def test_endpoint_failures_raise_llm_unavailable(llm_url: str) -> None:
    ChatServer.fail_with = 503
    with pytest.raises(LlmUnavailable, match="HTTP 503"):
        answerer(llm_url).answer("q", passages())
    with pytest.raises(LlmUnavailable):
        list(answerer(llm_url).stream("q", passages()))
    with pytest.raises(LlmUnavailable, match="ConnectError"):
        answerer("http://127.0.0.1:9/v1").answer("q", passages())


def test_repair_markers() -> None:
    assert (
        repair_markers("a [1] b [S2] c [source 3; 4] d 【1】 e [0] f [12]", 3)
        == "a [1] b [2] c [3] d [1] e  f "
    )
    assert repair_markers("array[0] stays? no: [x] stays", 3) == "array stays? no: [x] stays"
