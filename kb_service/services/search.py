"""Querying one knowledge base or searching the organization: the two query use cases.

Both check the query, resolve the scope in SQL (`services.search_scope`), retrieve the
live chunks and, in answer mode, compose the answer (`services.answers`) after the
transaction has closed, so no database connection waits on an LLM.

The SQL metadata database is the source of truth: a vector hit is shown only if its
kind's liveness check (`services.liveness`) says its source is live in SQL. Stale
points are compensated by over-fetching and, if still short, by asking the index again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from kb_service.db.database import Database
from kb_service.errors import InvalidInput
from kb_service.observability.metrics import observe_query_stage
from kb_service.services import scopes
from kb_service.services.answers import QueryResult, QueryTimings, answer_query, require_generative
from kb_service.services.liveness import LIVENESS, LiveSource, point_kind
from kb_service.services.query_engine import QueryEngine
from kb_service.services.search_scope import QueryFilter, kb_scope, organization_scope
from retrieval.answer import Passage
from retrieval.search import ChunkScope, RetrievedChunk, Retriever, SearchMode

MAX_ROUNDS = 3
MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class QueryRequest:
    """What a caller asks: the query, how many chunks, and whether and how to answer."""

    query: str
    top_k: int = 5
    answer: bool = True  # False: rank chunks only ("retrieve" mode)
    search_mode: SearchMode = SearchMode.HYBRID
    diversify: bool = False  # MMR re-ranking of the candidates
    answerer: Literal["extractive", "generative"] | None = None  # None: generative if configured
    stream: bool = False  # the answer as events (answer mode only)
    filters: QueryFilter = field(default_factory=QueryFilter)


def query_knowledge_base(
    db: Database, *, engine: QueryEngine, organization_id: str, kb_id: str, request: QueryRequest
) -> QueryResult:
    """Answer from (or rank the chunks of) one of the organization's knowledge bases."""
    query = _checked_query(request.query)
    timings = QueryTimings()
    with db.session() as session:
        started = time.perf_counter()
        scope = kb_scope(
            session, organization_id=organization_id, kb_id=kb_id, filters=request.filters
        )
        timings.scope_ms = (time.perf_counter() - started) * 1000
        passages = _retrieve(session, engine, scope, query, request, timings)
    return _compose(engine, query, passages, request, timings)


def search_organization(
    db: Database,
    *,
    engine: QueryEngine,
    organization_id: str,
    request: QueryRequest,
    knowledge_base_ids: Sequence[str] | None = None,
    project_ids: Sequence[str] | None = None,
    include_meetings: bool = True,
    key_scope: scopes.Scope,
) -> QueryResult:
    """Answer from (or rank) everything the key may see, narrowed by the request's scope.

    For a scoped key, naming a knowledge base or project outside its scope is
    `NotFound`; naming none searches what its scope holds (`scopes.narrowed`)."""
    query = _checked_query(request.query)
    timings = QueryTimings()
    with db.session() as session:
        started = time.perf_counter()
        knowledge_base_ids, project_ids = scopes.narrowed(
            session,
            organization_id=organization_id,
            scope=key_scope,
            knowledge_base_ids=knowledge_base_ids,
            project_ids=project_ids,
        )
        scope = organization_scope(
            session,
            organization_id=organization_id,
            knowledge_base_ids=knowledge_base_ids,
            project_ids=project_ids,
            include_meetings=include_meetings,
            filters=request.filters,
        )
        timings.scope_ms = (time.perf_counter() - started) * 1000
        passages = _retrieve(session, engine, scope, query, request, timings)
    return _compose(engine, query, passages, request, timings)


def _retrieve(
    session: Session,
    engine: QueryEngine,
    scope: ChunkScope,
    query: str,
    request: QueryRequest,
    timings: QueryTimings,
) -> list[Passage]:
    return retrieve_live(
        session,
        retriever=engine.retriever,
        scope=scope,
        query=query,
        top_k=request.top_k,
        mode=request.search_mode,
        diversify=request.diversify,
        timings=timings,
    )


def _compose(
    engine: QueryEngine,
    query: str,
    passages: list[Passage],
    request: QueryRequest,
    timings: QueryTimings,
) -> QueryResult:
    if not request.answer:
        verdict = engine.extractive.judge.judge(query, passages)
        _observe(timings, answered=False)
        return QueryResult(passages, None, verdict, timings=timings)
    generative = None if request.answerer == "extractive" else engine.generative
    if request.answerer == "generative":
        generative = require_generative(engine.generative)
    result = answer_query(
        query=query,
        passages=passages,
        extractive=engine.extractive,
        generative=generative,
        stream=request.stream,
        timings=timings,
    )
    _observe(timings, answered=not request.stream)  # a stream's answer is composed later
    return result


def _observe(timings: QueryTimings, *, answered: bool) -> None:
    """The query's stages into `kb_query_stage_duration_seconds` (answer when composed)."""
    for stage, ms in timings.stages().items():
        if answered or stage != "answer":
            observe_query_stage(stage, ms)


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
