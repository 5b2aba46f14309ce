"""Request and response bodies of the project routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kb_service.api.schemas.documents import DocumentOut
from kb_service.api.schemas.knowledge_bases import KnowledgeBaseOut
from kb_service.services.projects import ContentItem, ProjectWithCounts


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str | None
    metadata: dict[str, Any]
    knowledge_base_count: int
    meeting_count: int
    created_at: datetime

    @classmethod
    def of(cls, counted: ProjectWithCounts) -> ProjectOut:
        project = counted.project
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            metadata=project.metadata_ or {},
            knowledge_base_count=counted.knowledge_base_count,
            meeting_count=counted.meeting_count,
            created_at=project.created_at,
        )


class ContentOut(BaseModel):
    type: Literal["knowledge_base", "document"]
    id: str
    knowledge_base_id: str
    created_at: datetime
    knowledge_base: KnowledgeBaseOut | None = None
    document: DocumentOut | None = None

    @classmethod
    def of(cls, item: ContentItem) -> ContentOut:
        return cls(
            type=item.type,  # type: ignore[arg-type]
            id=item.id,
            knowledge_base_id=item.knowledge_base_id,
            created_at=item.created_at,
            knowledge_base=KnowledgeBaseOut.of(item.knowledge_base)
            if item.knowledge_base
            else None,
            document=DocumentOut.of(item.document) if item.document is not None else None,
        )
