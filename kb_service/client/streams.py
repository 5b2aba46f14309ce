"""Server-Sent Events of a streamed answer (`"stream": true` on query and search).

The API sends, in order: `citations` (`{citations}`, provisional sources), `delta`s
(`{text}`, the draft), an `error` (`{message}`) only if the LLM failed mid-answer,
then `done` (`{answer, citations, answerer, found, used, notice?}`), the authoritative
result (see `kb_service.api.routes.query`). `SseParser` turns lines into those events;
the clients feed it from httpx's line iterators.
"""

from __future__ import annotations

import json

import httpx

from retrieval.generative import StreamEvent

__all__ = ["SseParser", "StreamEvent", "is_event_stream"]


def is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


class SseParser:
    """Lines of a `text/event-stream` in, complete events out (one per blank line)."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> StreamEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def close(self) -> StreamEvent | None:
        """The last event, if the stream ended without its blank line."""
        return self._dispatch()

    def _dispatch(self) -> StreamEvent | None:
        if not self._data:
            self._event = "message"
            return None
        event = StreamEvent(self._event, json.loads("\n".join(self._data)))
        self._event, self._data = "message", []
        return event
