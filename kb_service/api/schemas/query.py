"""Request and response bodies of `/knowledge-bases/{id}/query` and `/search`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kb_service.services.search import MAX_QUERY_CHARS, QueryRequest
from kb_service.services.search_scope import QueryFilter
from retrieval.search import SearchMode

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
    query: str = Field(description=f"1 to {MAX_QUERY_CHARS} characters")
    top_k: int = Field(default=5, ge=1, le=100)
    mode: Literal["answer", "retrieve"] = "answer"
    filter: QueryFilterIn | None = None
    search: SearchMode = Field(default=SearchMode.HYBRID, description="hybrid, dense or sparse")
    diversify: bool = Field(default=False, description="MMR re-ranking of the candidates")
    answerer: Literal["extractive", "generative"] | None = Field(
        default=None, description="default: generative when KB_LLM_BASE_URL is set"
    )
    stream: bool = Field(default=False, description="answer as Server-Sent Events")

    def to_request(self) -> QueryRequest:
        return QueryRequest(
            query=self.query,
            top_k=self.top_k,
            answer=self.mode == "answer",
            search_mode=self.search,
            diversify=self.diversify,
            answerer=self.answerer,
            stream=self.stream and self.mode == "answer",
            filters=self.filter.to_domain() if self.filter else QueryFilter(),
        )


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
    found: bool = Field(description="whether the passages answer the query (also in retrieve mode)")
    confidence: float = Field(ge=0, le=1, description="how sure `found` is; 0.5 at the threshold")
    reason: str | None = Field(default=None, description="why nothing was found, one sentence")
    evidence: dict[str, Any] = Field(
        description="the answerability decision's features: similarity, coverage, evidence, "
        "threshold, missing_terms"
    )
