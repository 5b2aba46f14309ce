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

from retrieval.answer import Passage, citation_problems
from retrieval.generative import (
    ChatClient,
    ChatConfig,
    GenerativeAnswerer,
    LlmUnavailable,
    repair_markers,
)

# Marker spellings real models produce, plus one that names no source ([7]).
RECORDED = (
    "Profiles expire every 90 days [Source 2]. Regenerate the profile in the portal [2, 1]. "
    "The helpdesk is at extension 4242 [7]."
)


class ChatServer(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    fail_with: int | None = None

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
            for i in range(0, len(RECORDED), 7):  # 7-char pieces split markers mid-way
                chunk = {"choices": [{"index": 0, "delta": {"content": RECORDED[i : i + 7]}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        reply = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": RECORDED},
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
    ChatServer.requests, ChatServer.fail_with = [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def passages() -> list[Passage]:
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
            0.5,
        )
        for i, t in enumerate(texts)
    ]


def answerer(url: str) -> GenerativeAnswerer:
    return GenerativeAnswerer(
        ChatClient(
            ChatConfig(base_url=url, model="test-model", api_key="sk-test", timeout_seconds=5)
        )
    )


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
    events = list(answerer(llm_url).stream("How do I fix my VPN?", passages()))
    kinds = [e.event for e in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    assert [c["index"] for c in events[0].data["citations"]] == [1, 2, 3]
    streamed = "".join(e.data["text"] for e in events if e.event == "delta")
    assert (
        "[7]" not in streamed and "Source" not in streamed
    )  # never leaked, even split across chunks
    assert "[2]" in streamed and "[2][1]" in streamed
    done = events[-1].data
    assert done["used"] == [1, 2] and done["answerer"] == "generative"
    assert done["answer"].endswith("extension 4242.")


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
