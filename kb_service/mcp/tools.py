"""What each MCP tool does: one service call, its result shaped into a `schemas` output.

The same service functions as the REST routes (`/search`, `/knowledge-bases`,
`/projects`, `/meetings`), scoped the same way: to the caller's organization, where
another organization's id is "not found". Passage ids and links:

| passage | `id` (for `fetch`) | `url` |
|---|---|---|
| document chunk | its `chunk_id` (`chk_...`) | `/console/kb/{kb}/doc/{doc}#span=S-E` |
| meeting span | `mtg_...:S-E` | `/console/meetings/{mtg}#span=S-E` |

A `url` is a page of the web console (`kb_service.console`) that shows the document's
extracted text (or the meeting's transcript) with characters `[S, E)`, the span
`char_start`/`char_end` index into, highlighted and scrolled into view.
"""

from __future__ import annotations

from typing import Any

from kb_service import console
from kb_service.mcp.callers import Caller
from kb_service.mcp.schemas import (
    Citation,
    CitedAnswer,
    FetchedPassage,
    KnowledgeBaseItem,
    KnowledgeBaseList,
    MeetingItem,
    MeetingList,
    ProjectItem,
    ProjectList,
    SearchHit,
    SearchResults,
    SearchScope,
    Segment,
)
from kb_service.services import knowledge_bases, meetings, passages, projects
from kb_service.services import search as search_service
from kb_service.services.search import QueryRequest
from retrieval.answer import Citation as AnswerCitation
from retrieval.answer import Passage

ANSWER_TOP_K = 5  # passages an answer is composed from (the REST default)


def document_url(
    base: str, kb_id: str | None, document_id: str | None, start: int, end: int
) -> str:
    return console.document_link(base, kb_id, document_id, start, end)


def meeting_url(base: str, meeting_id: str, start: int, end: int) -> str:
    return console.meeting_link(base, meeting_id, start, end)


def search(caller: Caller, *, query: str, top_k: int, scope: SearchScope | None) -> SearchResults:
    result = _search_organization(caller, QueryRequest(query, top_k=top_k, answer=False), scope)
    hits = [_hit(p, caller.base_url) for p in result.chunks]
    return SearchResults(query=query, results=hits)


def answer(caller: Caller, *, question: str, scope: SearchScope | None) -> CitedAnswer:
    request = QueryRequest(question, top_k=ANSWER_TOP_K, answer=True)
    result = _search_organization(caller, request, scope)
    composed = result.answer
    assert composed is not None  # answer mode without streaming always composes one
    return CitedAnswer(
        question=question,
        answer=composed.text,
        answerer=composed.answerer,
        found=composed.found and result.answerability.found,
        confidence=result.answerability.confidence,
        reason=result.answerability.reason,
        citations=[_citation(c, caller.base_url) for c in composed.citations],
        notice=result.notice,
    )


def fetch(caller: Caller, *, passage_id: str) -> FetchedPassage:
    stored = passages.get_passage(
        caller.runtime.db,
        organization_id=caller.principal.organization_id,
        scope=caller.principal.scope,
        passage_id=passage_id,
    )
    start, end = stored.char_start, stored.char_end
    if stored.meeting_id is not None:
        url = meeting_url(caller.base_url, stored.meeting_id, start, end)
    else:
        url = document_url(
            caller.base_url, stored.knowledge_base_id, stored.document_id, start, end
        )
    first = stored.segments[0] if stored.segments else None
    return FetchedPassage(
        id=stored.id,
        kind=stored.kind,
        title=stored.title,
        url=url,
        text=stored.text,
        source=stored.source,
        source_type=stored.source_type,
        knowledge_base_id=stored.knowledge_base_id,
        document_id=stored.document_id,
        chunk_id=stored.chunk_id,
        page_number=stored.page_number,
        char_start=start,
        char_end=end,
        truncated=stored.truncated,
        section=stored.section,
        meeting_id=stored.meeting_id,
        speaker=first.speaker if first else None,
        timestamp=first.timestamp if first else None,
        segments=[
            Segment(
                speaker=s.speaker,
                timestamp=s.timestamp,
                char_start=s.char_start,
                char_end=s.char_end,
            )
            for s in stored.segments
        ],
        metadata=stored.metadata,
    )


def list_knowledge_bases(caller: Caller, *, limit: int, cursor: str | None) -> KnowledgeBaseList:
    found = knowledge_bases.list_knowledge_bases(
        caller.runtime.db,
        organization_id=caller.principal.organization_id,
        scope=caller.principal.scope,
        limit=limit,
        cursor=cursor,
    )
    items = [
        KnowledgeBaseItem(
            id=k.knowledge_base.id,
            name=k.knowledge_base.name,
            description=k.knowledge_base.description,
            project_id=k.knowledge_base.project_id,
            document_count=k.document_count,
            chunk_count=k.chunk_count,
            created_at=k.knowledge_base.created_at.isoformat(),
        )
        for k in found.items
    ]
    return KnowledgeBaseList(items=items, next_cursor=found.next_cursor)


def list_projects(caller: Caller, *, limit: int, cursor: str | None) -> ProjectList:
    found = projects.list_projects(
        caller.runtime.db,
        organization_id=caller.principal.organization_id,
        scope=caller.principal.scope,
        limit=limit,
        cursor=cursor,
    )
    items = [
        ProjectItem(
            id=p.project.id,
            name=p.project.name,
            description=p.project.description,
            knowledge_base_count=p.knowledge_base_count,
            meeting_count=p.meeting_count,
            created_at=p.project.created_at.isoformat(),
        )
        for p in found.items
    ]
    return ProjectList(items=items, next_cursor=found.next_cursor)


def list_meetings(
    caller: Caller, *, project_id: str | None, limit: int, cursor: str | None
) -> MeetingList:
    found = meetings.list_meetings(
        caller.runtime.db,
        organization_id=caller.principal.organization_id,
        scope=caller.principal.scope,
        project_id=project_id,
        limit=limit,
        cursor=cursor,
    )
    items = [
        MeetingItem(
            id=m.id,
            title=m.title,
            project_id=m.project_id,
            platform=m.platform,
            status=str(m.status),
            started_at=m.started_at.isoformat() if m.started_at else None,
            segment_count=m.segment_count,
            participants=[str(p) for p in m.participants or []],
            url=console.meeting_link(caller.base_url, m.id),
        )
        for m in found.items
    ]
    return MeetingList(items=items, next_cursor=found.next_cursor)


def _search_organization(
    caller: Caller, request: QueryRequest, scope: SearchScope | None
) -> search_service.QueryResult:
    scope = scope or SearchScope()
    return search_service.search_organization(
        caller.runtime.db,
        engine=caller.runtime.query_engine,
        organization_id=caller.principal.organization_id,
        request=request,
        knowledge_base_ids=scope.knowledge_base_ids,
        project_ids=scope.project_ids,
        include_meetings=scope.include_meetings,
        key_scope=caller.principal.scope,
    )


def _located(passage: Passage, base: str, start: int, end: int) -> tuple[str, str]:
    """The passage's id and a link to characters [start, end) of its source."""
    meeting_id = passage.extra.get("meeting_id")
    if meeting_id:
        return (
            passages.meeting_passage_id(meeting_id, passage.char_start, passage.char_end),
            meeting_url(base, meeting_id, start, end),
        )
    url = document_url(base, passage.knowledge_base_id, passage.document_id, start, end)
    return passage.chunk_id, url


def _span_fields(passage: Passage, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": passage.title,
        "source": passage.source,
        "source_type": str(extra.get("source_type") or ""),
        "knowledge_base_id": passage.knowledge_base_id,
        "document_id": passage.document_id,
        "chunk_id": passage.chunk_id,
        "page_number": passage.page_number,
        "meeting_id": extra.get("meeting_id"),
        "speaker": extra.get("speaker"),
        "timestamp": extra.get("timestamp"),
    }


def _hit(passage: Passage, base: str) -> SearchHit:
    passage_id, url = _located(passage, base, passage.char_start, passage.char_end)
    return SearchHit(
        id=passage_id,
        url=url,
        text=passage.text,
        char_start=passage.char_start,
        char_end=passage.char_end,
        score=round(passage.score, 6),
        section=[str(s) for s in passage.extra.get("section") or []],
        **_span_fields(passage, passage.extra),
    )


def _citation(citation: AnswerCitation, base: str) -> Citation:
    # to_dict resolves the speaker and timestamp of the cited sentence of a meeting
    cited = citation.to_dict()
    passage_id, url = _located(citation.passage, base, citation.char_start, citation.char_end)
    return Citation(
        index=citation.index,
        id=passage_id,
        url=url,
        text=citation.text,
        char_start=citation.char_start,
        char_end=citation.char_end,
        score=round(citation.score, 6),
        **_span_fields(citation.passage, cited),
    )
