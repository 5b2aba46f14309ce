"""A minimal client of an OpenAI-compatible `/chat/completions` endpoint.

`ChatClient.complete` returns the reply; `ChatClient.stream` yields its text deltas
(server-sent events). Every failure, whether the endpoint is unreachable, times out,
answers non-2xx or answers in another shape, raises `LlmUnavailable` naming the
endpoint and the reason, never the response body. `chat_client_for` shares one pooled
client per configuration across request threads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from retrieval.errors import LlmUnavailable


@dataclass(frozen=True)
class ChatConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 30.0
    max_tokens: int = 512


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


_clients: dict[ChatConfig, ChatClient] = {}
_clients_lock = threading.Lock()


def chat_client_for(config: ChatConfig) -> ChatClient:
    """One pooled client per endpoint configuration, shared by every request thread."""
    with _clients_lock:
        if config not in _clients:
            _clients[config] = ChatClient(config)
        return _clients[config]
