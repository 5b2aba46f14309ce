"""Composing a query's answer from its live passages, as JSON or as an event stream.

Answers are generative when an LLM is configured (only passages at or above
`KB_ANSWER_MIN_SIMILARITY` reach it; see `retrieval.generative`), else extractive. The
extractive answer, with a `notice`, replaces a generative one whose endpoint fails or
whose reply cites none of its sources, in JSON and in streams alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kb_service.errors import InvalidInput
from retrieval.answer import Answer, ExtractiveAnswerer, Passage
from retrieval.answerability import Answerability
from retrieval.errors import LlmUnavailable
from retrieval.generative import GenerativeAnswerer, StreamEvent, done_event
from retrieval.search import RetrievalTimings


@dataclass
class QueryTimings(RetrievalTimings):
    scope_ms: float = 0.0
    liveness_ms: float = 0.0
    answer_ms: float = 0.0

    def stages(self) -> dict[str, float]:
        """Milliseconds by stage, in `Server-Timing` order."""
        stages = ("scope", "embed", "index", "rerank", "liveness", "answer")
        return {s: getattr(self, s + "_ms") for s in stages}

    def header(self) -> str:
        """A `Server-Timing` header value."""
        return ", ".join(f"{s};dur={ms:.2f}" for s, ms in self.stages().items())


@dataclass
class QueryResult:
    chunks: list[Passage]
    answer: Answer | None
    answerability: Answerability
    stream: Iterator[StreamEvent] | None = None
    notice: str | None = None
    timings: QueryTimings = field(default_factory=QueryTimings)


def answer_query(
    *,
    query: str,
    passages: list[Passage],
    extractive: ExtractiveAnswerer,
    generative: GenerativeAnswerer | None,
    stream: bool,
    timings: QueryTimings,
) -> QueryResult:
    """Compose the answer (or its event stream); extractive if the LLM fails or cites nothing.

    A question the passages do not answer (`retrieval.answerability`) is refused without
    calling the LLM.
    """
    started = time.perf_counter()
    notice = None
    verdict = extractive.judge.judge(query, passages)
    try:
        if generative is not None and verdict.found:
            if stream:
                events = generative.stream(query, passages)
                first = next(events)  # raises LlmUnavailable if the endpoint is down
                rest = _generative_events(
                    first, events, lambda: extractive.answer(query, passages, verdict)
                )
                return QueryResult(passages, None, verdict, _judged(rest, verdict), timings=timings)
            answer = generative.answer(query, passages)
            timings.answer_ms = (time.perf_counter() - started) * 1000
            return QueryResult(passages, answer, verdict, timings=timings)
    except LlmUnavailable as exc:  # UncitedAnswer included
        notice = _instead(exc)
    answer = extractive.answer(query, passages, verdict)
    timings.answer_ms = (time.perf_counter() - started) * 1000
    extractive_events = _judged(_extractive_events(answer, notice), verdict) if stream else None
    return QueryResult(passages, answer, verdict, extractive_events, notice, timings)


def require_generative(generative: GenerativeAnswerer | None) -> GenerativeAnswerer:
    if generative is None:
        raise InvalidInput(
            "The generative answerer is not configured (set KB_LLM_BASE_URL and KB_LLM_MODEL).",
            errors=[{"field": "answerer", "message": "not configured", "type": "value_error"}],
        )
    return generative


def _instead(exc: LlmUnavailable) -> str:
    return f"{exc} This is the extractive answer instead."


def _generative_events(
    first: StreamEvent, rest: Iterator[StreamEvent], fallback: Callable[[], Answer]
) -> Iterator[StreamEvent]:
    """The generative stream; when its draft cited nothing, `done` carries the fallback."""
    yield first
    try:
        yield from rest
    except LlmUnavailable as exc:  # UncitedAnswer: the streamed draft is not the answer
        yield done_event(fallback(), used=[], notice=_instead(exc))


def _extractive_events(answer: Answer, notice: str | None) -> Iterator[StreamEvent]:
    yield StreamEvent("citations", {"citations": [c.to_dict() for c in answer.citations]})
    yield StreamEvent("delta", {"text": answer.text})
    yield done_event(answer, used=[c.index for c in answer.citations], notice=notice)


def verdict_fields(verdict: Answerability) -> dict[str, Any]:
    """What a response says of answerability: `found`, `confidence`, `reason`, `evidence`."""
    return {
        "found": verdict.found,
        "confidence": verdict.confidence,
        "reason": verdict.reason,
        "evidence": verdict.features(),
    }


def _judged(events: Iterator[StreamEvent], verdict: Answerability) -> Iterator[StreamEvent]:
    """`events` with the verdict in the `done` event (an answer the LLM refused stays unfound)."""
    for event in events:
        if event.event == "done":
            found = bool(event.data.get("found", True)) and verdict.found
            event.data.update(verdict_fields(verdict), found=found)
        yield event
