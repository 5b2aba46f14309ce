"""Querying: one knowledge base (`/knowledge-bases/{id}/query`) or the organization (`/search`).

With `"stream": true` (answer mode) the reply is Server-Sent Events, in this order:
`citations` (`{citations}`: provisional sources, numbered as the deltas' markers),
`delta`s (`{text}`: the draft, concatenated in order), an `error` (`{message}`) only if
the LLM fails mid-answer, then `done` (`{answer, citations, answerer, found, used,
notice?}`). `done` is authoritative: its answer is renumbered `1..m`, every `[n]` in it
resolves to its `citations`, and every one of those is used; `used[i]` is the
provisional number of `done.citations[i]`. When the generative draft cites nothing,
`done` carries the extractive answer and a `notice` instead (see `retrieval.generative`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from kb_service.api.deps import DB, Reader, RuntimeDep
from kb_service.api.envelope import Envelope, ok
from kb_service.services import search as search_service
from kb_service.services.search import QueryEngine, QueryFilter, QueryResult
from retrieval.generative import StreamEvent
from retrieval.search import SearchMode

router = APIRouter(tags=["query"])

Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InValues(_Strict):
    in_: list[Scalar] = Field(alias="in", min_length=1, max_length=100)


class QueryFilterIn(_Strict):
    document_ids: list[str] | None = Field(default=None, max_length=1000)
    knowledge_base_ids: list[str] | None = Field(default=None, max_length=1000)
    source_types: list[str] | None = Field(default=None, max_length=20)
    metadata: dict[str, Scalar | InValues] | None = Field(default=None, max_length=20)
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_domain(self) -> QueryFilter:
        def ids(values: list[str] | None) -> tuple[str, ...] | None:
            return None if values is None else tuple(values)

        metadata = None
        if self.metadata is not None:
            metadata = {
                k: ({"in": v.in_} if isinstance(v, InValues) else v)
                for k, v in self.metadata.items()
            }
        return QueryFilter(
            document_ids=ids(self.document_ids),
            knowledge_base_ids=ids(self.knowledge_base_ids),
            source_types=ids(self.source_types),
            metadata=metadata,
            created_after=self.created_after,
            created_before=self.created_before,
        )


class QueryIn(_Strict):
    query: str = Field(description=f"1 to {search_service.MAX_QUERY_CHARS} characters")
    top_k: int = Field(default=5, ge=1, le=100)
    mode: Literal["answer", "retrieve"] = "answer"
    filter: QueryFilterIn | None = None
    search: SearchMode = Field(default=SearchMode.HYBRID, description="hybrid, dense or sparse")
    diversify: bool = Field(default=False, description="MMR re-ranking of the candidates")
    answerer: Literal["extractive", "generative"] | None = Field(
        default=None, description="default: generative when KB_LLM_BASE_URL is set"
    )
    stream: bool = Field(default=False, description="answer as Server-Sent Events")


class SearchScopeIn(_Strict):
    knowledge_base_ids: list[str] | None = Field(default=None, max_length=100)
    project_ids: list[str] | None = Field(default=None, max_length=100)
    include_meetings: bool = True


class SearchIn(QueryIn):
    scope: SearchScopeIn | None = None


class QueryOut(BaseModel):
    answer: str | None
    answerer: str | None
    citations: list[dict[str, Any]]
    chunks: list[dict[str, Any]]
    notice: str | None = None


def get_query_engine(request: Request, runtime: RuntimeDep) -> QueryEngine:
    engine: QueryEngine | None = getattr(request.app.state, "query_engine", None)
    if engine is None or engine.retriever.index is not runtime.index:
        engine = search_service.build_query_engine(
            runtime.settings,
            embedder=runtime.embedder,
            sparse_encoder=runtime.pipeline.sparse_encoder,
            index=runtime.index,
        )
        request.app.state.query_engine = engine
    return engine


Engine = Annotated[QueryEngine, Depends(get_query_engine)]


@router.post("/knowledge-bases/{kb_id}/query", response_model=Envelope[QueryOut])
def query_knowledge_base(
    kb_id: str, body: QueryIn, principal: Reader, db: DB, engine: Engine
) -> Any:
    """Answer a question from one knowledge base, with citations (or just rank its chunks)."""
    filters = body.filter.to_domain() if body.filter else QueryFilter()
    with db.session() as session:
        result = search_service.run_query(
            session,
            engine=engine,
            scope_of=lambda s: search_service.kb_scope(
                s, organization_id=principal.organization_id, kb_id=kb_id, filters=filters
            ),
            **_options(body),
        )
    return _respond(result, body)


@router.post("/search", response_model=Envelope[QueryOut])
def search_organization(body: SearchIn, principal: Reader, db: DB, engine: Engine) -> Any:
    """Search (or answer from) everything the organization may see; for agent grounding."""
    filters = body.filter.to_domain() if body.filter else QueryFilter()
    scope = body.scope or SearchScopeIn()
    with db.session() as session:
        result = search_service.run_query(
            session,
            engine=engine,
            scope_of=lambda s: search_service.organization_scope(
                s,
                organization_id=principal.organization_id,
                knowledge_base_ids=scope.knowledge_base_ids,
                project_ids=scope.project_ids,
                include_meetings=scope.include_meetings,
                filters=filters,
            ),
            **_options(body),
        )
    return _respond(result, body)


def _options(body: QueryIn) -> dict[str, Any]:
    return {
        "query": body.query,
        "top_k": body.top_k,
        "answer": body.mode == "answer",
        "search_mode": body.search,
        "diversify": body.diversify,
        "answerer": body.answerer,
        "stream": body.stream and body.mode == "answer",
    }


def _respond(result: QueryResult, body: QueryIn) -> Any:
    if result.stream is not None:
        return StreamingResponse(
            _sse(result.stream),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "Server-Timing": result.timings.header()},
        )
    started = time.perf_counter()
    answer = result.answer
    data = {
        "answer": answer.text if answer else None,
        "answerer": answer.answerer if answer else None,
        "citations": [c.to_dict() for c in answer.citations] if answer else [],
        "chunks": [search_service.chunk_dict(p) for p in result.chunks],
        "notice": result.notice,
    }
    response = JSONResponse(ok(data))
    serialize_ms = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = (
        f"{result.timings.header()}, serialize;dur={serialize_ms:.2f}"
    )
    return response


def _sse(events: Iterator[StreamEvent]) -> Iterator[bytes]:
    for event in events:
        yield f"event: {event.event}\ndata: {json.dumps(event.data)}\n\n".encode()
