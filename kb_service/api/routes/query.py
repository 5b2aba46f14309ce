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
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from kb_service.api.deps import DB, Engine, Reader
from kb_service.api.envelope import Envelope, ok
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.query import QueryIn, QueryOut, SearchIn, SearchScopeIn
from kb_service.observability.metrics import observe_query_stage
from kb_service.services import search as service
from kb_service.services.answers import QueryResult, verdict_fields
from retrieval.generative import StreamEvent

router = APIRouter(tags=["query"], route_class=StrictJsonRoute)


@router.post("/knowledge-bases/{kb_id}/query", response_model=Envelope[QueryOut])
def query_knowledge_base(
    kb_id: str, body: QueryIn, principal: Reader, db: DB, engine: Engine
) -> Any:
    """Answer a question from one knowledge base, with citations (or just rank its chunks)."""
    result = service.query_knowledge_base(
        db,
        engine=engine,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        request=body.to_request(),
    )
    return _respond(result)


@router.post("/search", response_model=Envelope[QueryOut])
def search_organization(body: SearchIn, principal: Reader, db: DB, engine: Engine) -> Any:
    """Search (or answer from) everything the organization may see; for agent grounding."""
    scope = body.scope or SearchScopeIn()
    result = service.search_organization(
        db,
        engine=engine,
        organization_id=principal.organization_id,
        request=body.to_request(),
        knowledge_base_ids=scope.knowledge_base_ids,
        project_ids=scope.project_ids,
        include_meetings=scope.include_meetings,
        key_scope=principal.scope,
    )
    return _respond(result)


def _respond(result: QueryResult) -> Any:
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
        "chunks": [service.chunk_dict(p) for p in result.chunks],
        "notice": result.notice,
        **verdict_fields(result.answerability),
    }
    if answer is not None and not answer.found:
        data["found"] = False  # a generative answerer that found nothing in the passages
    response = JSONResponse(ok(data))
    serialize_ms = (time.perf_counter() - started) * 1000
    observe_query_stage("serialize", serialize_ms)
    response.headers["Server-Timing"] = (
        f"{result.timings.header()}, serialize;dur={serialize_ms:.2f}"
    )
    return response


def _sse(events: Iterator[StreamEvent]) -> Iterator[bytes]:
    for event in events:
        yield f"event: {event.event}\ndata: {json.dumps(event.data)}\n\n".encode()
