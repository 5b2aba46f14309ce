"""Querying: scope resolution, retrieval, liveness against SQL, answers with citations.

The SQL metadata database is the source of truth: a vector hit is shown only if its
kind's liveness check (`services.liveness`) says its source is live in SQL. Stale
points are compensated by over-fetching and, if still short, by asking the index again.
Scope resolution (filters, projects, metadata) lives in `services.search_scope`.

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

from sqlalchemy.orm import Session

from kb_service.errors import InvalidInput
from kb_service.services.liveness import LIVENESS, LiveSource, point_kind
from kb_service.services.search_scope import QueryFilter, kb_scope, organization_scope
from kb_service.settings import Settings
from retrieval.answer import Answer, ExtractiveAnswerer, Passage
from retrieval.embedding import Embedder
from retrieval.generative import (
    ChatConfig,
    GenerativeAnswerer,
    LlmUnavailable,
    StreamEvent,
    chat_client_for,
    done_event,
)
from retrieval.index import VectorIndex
from retrieval.index.base import FusionSpec
from retrieval.search import ChunkScope, RetrievalTimings, RetrievedChunk, Retriever, SearchMode
from retrieval.sparse import SparseEncoder

MAX_ROUNDS = 3
MAX_QUERY_CHARS = 2000


@dataclass
class QueryTimings(RetrievalTimings):
    scope_ms: float = 0.0
    liveness_ms: float = 0.0
    answer_ms: float = 0.0

    def header(self) -> str:
        """A `Server-Timing` header value."""
        stages = ("scope", "embed", "index", "rerank", "liveness", "answer")
        return ", ".join(f"{s};dur={getattr(self, s + '_ms'):.2f}" for s in stages)


@dataclass
class QueryResult:
    chunks: list[Passage]
    answer: Answer | None
    stream: Iterator[StreamEvent] | None = None
    notice: str | None = None
    timings: QueryTimings = field(default_factory=QueryTimings)


def fetch_size(top_k: int) -> int:
    """Chunks asked of the index for `top_k` live ones (a margin for stale points)."""
    return top_k + max(5, top_k // 4)


def retrieve_live(
    session: Session,
    *,
    retriever: Retriever,
    scope: ChunkScope,
    query: str,
    top_k: int,
    mode: SearchMode,
    diversify: bool,
    timings: QueryTimings,
) -> list[Passage]:
    """The `top_k` best live chunks, as passages; stale or unknown points never appear."""
    fetch = fetch_size(top_k)
    for _ in range(MAX_ROUNDS):
        hits = retriever.retrieve(
            query, scope=scope, limit=fetch, mode=mode, diversify=diversify, timings=timings
        )
        started = time.perf_counter()
        live: dict[str, LiveSource] = {}
        for kind, check in LIVENESS.items():
            of_kind = [h for h in hits if point_kind(h.payload) == kind]
            if of_kind:
                live.update(check(session, scope.organization_id, of_kind))
        timings.liveness_ms += (time.perf_counter() - started) * 1000
        passages = [_passage(h, live[h.point_id]) for h in hits if h.point_id in live]
        if len(passages) >= top_k or len(hits) < fetch:
            return passages[:top_k]
        fetch *= 3  # many stale points (a re-ingest in flight): look deeper
    return passages[:top_k]


def _passage(hit: RetrievedChunk, source: LiveSource) -> Passage:
    p = hit.payload
    extra = {"source_type": source.source_type, "section": list(p.get("section") or [])}
    extra.update(source.extra)
    return Passage(
        chunk_id=str(p.get("chunk_id")),
        document_id=p.get("document_id"),
        knowledge_base_id=p.get("knowledge_base_id"),
        title=source.title,
        source=source.source,
        page_number=p.get("page_number"),
        char_start=int(p.get("char_start") or 0),
        char_end=int(p.get("char_end") or 0),
        text=str(p.get("text") or ""),
        score=hit.score,
        similarity=hit.similarity,
        extra=extra,
    )


def answer_query(
    *,
    query: str,
    passages: list[Passage],
    extractive: ExtractiveAnswerer,
    generative: GenerativeAnswerer | None,
    stream: bool,
    timings: QueryTimings,
) -> QueryResult:
    """Compose the answer (or its event stream); extractive if the LLM fails or cites nothing."""
    started = time.perf_counter()
    notice = None
    try:
        if generative is not None:
            if stream:
                events = generative.stream(query, passages)
                first = next(events)  # raises LlmUnavailable if the endpoint is down
                rest = _generative_events(first, events, lambda: extractive.answer(query, passages))
                return QueryResult(passages, None, rest, timings=timings)
            answer = generative.answer(query, passages)
            timings.answer_ms = (time.perf_counter() - started) * 1000
            return QueryResult(passages, answer, timings=timings)
    except LlmUnavailable as exc:  # UncitedAnswer included
        notice = _instead(exc)
    answer = extractive.answer(query, passages)
    timings.answer_ms = (time.perf_counter() - started) * 1000
    extractive_events = _extractive_events(answer, notice) if stream else None
    return QueryResult(passages, answer, extractive_events, notice, timings)


def run_query(
    session: Session,
    *,
    engine: QueryEngine,
    scope_of: Callable[[Session], ChunkScope],
    query: str,
    top_k: int,
    answer: bool,
    search_mode: SearchMode,
    diversify: bool,
    answerer: str | None,
    stream: bool,
) -> QueryResult:
    """Resolve the scope, retrieve live chunks and, in answer mode, compose the answer."""
    query = _checked_query(query)
    timings = QueryTimings()
    started = time.perf_counter()
    scope = scope_of(session)
    timings.scope_ms = (time.perf_counter() - started) * 1000
    passages = retrieve_live(
        session,
        retriever=engine.retriever,
        scope=scope,
        query=query,
        top_k=top_k,
        mode=search_mode,
        diversify=diversify,
        timings=timings,
    )
    if not answer:
        return QueryResult(passages, None, timings=timings)
    generative = None if answerer == "extractive" else engine.generative
    if answerer == "generative":
        generative = require_generative(engine.generative)
    return answer_query(
        query=query,
        passages=passages,
        extractive=engine.extractive,
        generative=generative,
        stream=stream,
        timings=timings,
    )


def _checked_query(query: str) -> str:
    query = query.strip()
    problem = None
    if not query:
        problem = "The query is empty."
    elif len(query) > MAX_QUERY_CHARS:
        problem = f"The query is longer than {MAX_QUERY_CHARS} characters."
    if problem:
        raise InvalidInput(
            problem, errors=[{"field": "query", "message": problem, "type": "value_error"}]
        )
    return query


def chunk_dict(passage: Passage) -> dict[str, Any]:
    """A ranked chunk as the API shows it."""
    return {
        "chunk_id": passage.chunk_id,
        "document_id": passage.document_id,
        "knowledge_base_id": passage.knowledge_base_id,
        "title": passage.title,
        "source": passage.source,
        "page_number": passage.page_number,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "text": passage.text,
        "score": round(passage.score, 6),
        **passage.extra,
    }


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


@dataclass(frozen=True)
class QueryEngine:
    """The query-time parts, built once per process from settings and the runtime's engines."""

    retriever: Retriever
    extractive: ExtractiveAnswerer
    generative: GenerativeAnswerer | None


def build_query_engine(
    settings: Settings, *, embedder: Embedder, sparse_encoder: SparseEncoder, index: VectorIndex
) -> QueryEngine:
    fusion = FusionSpec(
        k=settings.rrf_k,
        dense_weight=settings.rrf_dense_weight,
        sparse_weight=settings.rrf_sparse_weight,
        prefetch_limit=settings.prefetch_limit,
    )
    retriever = Retriever(
        embedder=embedder,
        sparse_encoder=sparse_encoder,
        index=index,
        fusion=fusion,
        mmr_lambda=settings.mmr_lambda,
    )
    generative = None
    if settings.llm_base_url and settings.llm_model:
        config = ChatConfig(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_seconds=settings.llm_timeout_seconds,
        )
        generative = GenerativeAnswerer(
            chat_client_for(config), min_similarity=settings.answer_min_similarity
        )
    extractive = ExtractiveAnswerer(sparse_encoder, min_similarity=settings.answer_min_similarity)
    return QueryEngine(retriever, extractive, generative)


__all__ = ["QueryFilter", "kb_scope", "organization_scope"]
