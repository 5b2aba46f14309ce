"""Request and response bodies of the knowledge-base routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kb_service.services.knowledge_bases import KnowledgeBaseWithCounts


class ChunkingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_tokens: int | None = Field(default=None, ge=16, le=8192)
    overlap_tokens: int | None = Field(default=None, ge=0, le=4096)


class KnowledgeBaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    project_id: str | None = None
    chunking: ChunkingIn | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class KnowledgeBasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    project_id: str | None = None
    chunking: ChunkingIn | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _name_stays(cls, name: str | None) -> str:
        # Absent means unchanged; an explicit null would erase a required column.
        if name is None:
            raise ValueError("a knowledge base keeps its name; send a new one or leave it out")
        return name


class ChunkingOut(BaseModel):
    max_tokens: int
    overlap_tokens: int


class KnowledgeBaseOut(BaseModel):
    id: str
    name: str
    description: str | None
    project_id: str | None
    chunking: ChunkingOut
    metadata: dict[str, Any]
    document_count: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, counted: KnowledgeBaseWithCounts) -> KnowledgeBaseOut:
        kb = counted.knowledge_base
        return cls(
            id=kb.id,
            name=kb.name,
            description=kb.description,
            project_id=kb.project_id,
            chunking=ChunkingOut(
                max_tokens=kb.chunk_max_tokens, overlap_tokens=kb.chunk_overlap_tokens
            ),
            metadata=kb.metadata_ or {},
            document_count=counted.document_count,
            chunk_count=counted.chunk_count,
            created_at=kb.created_at,
            updated_at=kb.updated_at,
        )
