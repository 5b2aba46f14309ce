"""Generative answers from an OpenAI-compatible chat-completions endpoint, with checked citations.

The retrieved passages are numbered `[1]..[n]` in the prompt; the model is asked to cite
every claim with those numbers. Its markers are then repaired and validated:
`[2, 3]`, `[2;3]`, `[Source 2]`, `[S2]` and `【2】` become `[2][3]` / `[2]`; a number
that names no source is dropped. `GenerativeAnswerer.answer` renumbers the used
sources `1..m` in order of first use, so the answer obeys the same citation rules as
the extractive one (no dangling marker, no unused citation).

`GenerativeAnswerer.stream` yields `StreamEvent`s: `citations` first (all numbered
sources, since the text is not known yet), then `delta`s of repaired answer text (a
marker is held back until it is complete, so a dropped one never reaches the client),
then `done` with the whole answer and the source numbers it used.

Failures (connection refused, timeout, non-2xx status, a body that is not the
chat-completions shape) raise `LlmUnavailable` with a sentence naming the endpoint;
the service then falls back to the extractive answerer and says so.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from retrieval.answer import NOT_FOUND, Answer, Citation, Passage, passage_citation

_RAW_MARKER = re.compile(
    r"[\[【]\s*(?:sources?|src|s|ref)?\s*#?\s*"
    r"(\d{1,3}(?:\s*[,;]\s*(?:sources?|s)?\s*#?\s*\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_HOLD_BACK = 24  # longest plausible marker, e.g. "[Source 12, Source 13]"

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources you are given. Cite every "
    "sentence with the number of the source it comes from in square brackets, like [2]. "
    "Use only numbers of sources that exist. If the sources do not answer the question, "
    f'reply exactly: "{NOT_FOUND}" Be concise.'
)


class LlmUnavailable(Exception):
    """The chat-completions endpoint failed or answered in an unexpected shape."""


@dataclass(frozen=True)
class ChatConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 30.0
    max_tokens: int = 512


@dataclass(frozen=True)
class StreamEvent:
    event: str  # "citations" | "delta" | "done"
    data: dict[str, Any] = field(default_factory=dict)


class ChatClient:
    """Minimal OpenAI-compatible `/chat/completions` client (blocking and streaming)."""

    def __init__(self, config: ChatConfig, *, transport: httpx.BaseTransport | None = None):
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            timeout=config.timeout_seconds,
            transport=transport,
        )

    def _body(self, messages: list[dict[str, str]], stream: bool) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
            "stream": stream,
        }

    def complete(self, messages: list[dict[str, str]]) -> str:
        try:
            response = self._http.post("/chat/completions", json=self._body(messages, False))
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._failure(exc) from exc

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        try:
            with self._http.stream(
                "POST", "/chat/completions", json=self._body(messages, True)
            ) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    delta = json.loads(payload)["choices"][0].get("delta", {})
                    if delta.get("content"):
                        yield str(delta["content"])
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: Exception) -> LlmUnavailable:
        if isinstance(exc, httpx.HTTPStatusError):
            reason = f"HTTP {exc.response.status_code}"
        elif isinstance(exc, httpx.HTTPError):
            reason = type(exc).__name__
        else:
            reason = "a response that is not in the chat-completions format"
        return LlmUnavailable(f"The language model at {self.config.base_url} failed ({reason}).")

    def close(self) -> None:
        self._http.close()


def build_messages(query: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    sources = []
    for number, p in enumerate(passages, start=1):
        where = f", page {p.page_number}" if p.page_number else ""
        sources.append(f"[{number}] ({p.title}{where})\n{p.text}")
    user = "Sources:\n\n" + "\n\n".join(sources) + f"\n\nQuestion: {query}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def repair_markers(text: str, source_count: int) -> str:
    """Normalise marker spellings to `[n]` and drop numbers that name no source."""

    def fix(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        return "".join(f"[{n}]" for n in numbers if 1 <= n <= source_count)

    return _RAW_MARKER.sub(fix, text)


def renumber(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Renumber the used sources 1..m by first use; citations of exactly those."""
    order: dict[int, int] = {}
    for n in _MARKER.findall(text):
        order.setdefault(int(n), len(order) + 1)
    renumbered = _MARKER.sub(lambda m: f"[{order[int(m.group(1))]}]", text)
    citations = [passage_citation(new, passages[old - 1]) for old, new in order.items()]
    return renumbered, citations


def _tidy(text: str) -> str:
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


class GenerativeAnswerer:
    """Answers with an LLM over numbered passages; markers validated against the sources."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def answer(self, query: str, passages: Sequence[Passage]) -> Answer:
        if not passages:
            return Answer(NOT_FOUND, [], "generative", found=False)
        raw = self.client.complete(build_messages(query, passages))
        text, citations = renumber(_tidy(repair_markers(raw, len(passages))), passages)
        return Answer(text, citations, "generative", found=bool(citations))

    def stream(self, query: str, passages: Sequence[Passage]) -> Iterator[StreamEvent]:
        """Events: citations, deltas, done. Raises `LlmUnavailable` before the first
        event if the endpoint cannot be reached; a failure mid-answer ends the stream
        with an `error` event followed by `done` (what was said so far)."""
        if not passages:
            yield StreamEvent("citations", {"citations": []})
            yield StreamEvent("delta", {"text": NOT_FOUND})
            yield StreamEvent("done", {"answer": NOT_FOUND, "answerer": "generative", "used": []})
            return
        deltas = self.client.stream(build_messages(query, passages))
        first = next(deltas, "")  # fail here, before anything is sent, if the LLM is down
        sources = [passage_citation(n, p) for n, p in enumerate(passages, start=1)]
        yield StreamEvent("citations", {"citations": [c.to_dict() for c in sources]})
        emitted: list[str] = []
        pending = first
        try:
            for delta in deltas:
                pending += delta
                cut = _safe_prefix_length(pending)
                if cut:
                    piece = repair_markers(pending[:cut], len(passages))
                    pending = pending[cut:]
                    if piece:
                        emitted.append(piece)
                        yield StreamEvent("delta", {"text": piece})
        except LlmUnavailable as exc:
            yield StreamEvent("error", {"message": str(exc)})
        if pending:
            piece = repair_markers(pending, len(passages))
            if piece:
                emitted.append(piece)
                yield StreamEvent("delta", {"text": piece})
        text = _tidy("".join(emitted))
        used = sorted({int(n) for n in _MARKER.findall(text)})
        yield StreamEvent("done", {"answer": text, "answerer": "generative", "used": used})


_clients: dict[ChatConfig, ChatClient] = {}
_clients_lock = threading.Lock()


def chat_client_for(config: ChatConfig) -> ChatClient:
    """One pooled client per endpoint configuration, shared by every request thread."""
    with _clients_lock:
        if config not in _clients:
            _clients[config] = ChatClient(config)
        return _clients[config]


def _safe_prefix_length(pending: str) -> int:
    """How much of `pending` can be emitted: all but a possibly unfinished marker."""
    opening = max(pending.rfind("["), pending.rfind("【"))
    if opening == -1:
        return len(pending)
    closed = any(ch in pending[opening:] for ch in "]】")
    if closed or len(pending) - opening > _HOLD_BACK:
        return len(pending)
    return opening
