"""Request and response bodies of the knowledge-base, document and ingest routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from kb_service.db.content import Chunk, Document, KnowledgeBase
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.jobs.completion import item_view


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
    def of(cls, kb: KnowledgeBase, counts: tuple[int, int]) -> KnowledgeBaseOut:
        return cls(
            id=kb.id,
            name=kb.name,
            description=kb.description,
            project_id=kb.project_id,
            chunking=ChunkingOut(
                max_tokens=kb.chunk_max_tokens, overlap_tokens=kb.chunk_overlap_tokens
            ),
            metadata=kb.metadata_ or {},
            document_count=counts[0],
            chunk_count=counts[1],
            created_at=kb.created_at,
            updated_at=kb.updated_at,
        )


class TextDocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5_000_000)
    title: str | None = Field(default=None, max_length=500)
    source_url: HttpUrl | None = None
    external_id: str | None = Field(default=None, min_length=1, max_length=500)
    metadata: dict[str, Any] = Field(default_factory=dict)


class TextIngestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[TextDocumentIn] = Field(min_length=1, max_length=1000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class JobProgress(BaseModel):
    documents_total: int
    documents_done: int
    chunks_indexed: int


class JobDocument(BaseModel):
    filename: str | None
    title: str | None
    external_id: str | None
    status: str
    document_id: str | None
    version: int | None
    chunk_count: int
    error: str | None


class IngestJobOut(BaseModel):
    id: str
    knowledge_base_id: str
    status: str
    progress: JobProgress
    documents: list[JobDocument]
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: IngestJob, items: list[IngestItem]) -> IngestJobOut:
        return cls(
            id=job.id,
            knowledge_base_id=job.knowledge_base_id,
            status=job.status,
            progress=JobProgress(
                documents_total=job.documents_total,
                documents_done=job.documents_done,
                chunks_indexed=job.chunks_indexed,
            ),
            documents=[JobDocument(**item_view(i)) for i in items],
            error=job.error,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class DocumentOut(BaseModel):
    id: str
    knowledge_base_id: str
    title: str
    source: str
    source_url: str | None
    source_type: str
    external_id: str | None
    content_hash: str
    version: int
    status: str
    chunk_count: int
    char_count: int
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    text: str | None = None

    @classmethod
    def of(cls, doc: Document, *, with_text: bool = False) -> DocumentOut:
        return cls(
            id=doc.id,
            knowledge_base_id=doc.knowledge_base_id,
            title=doc.title,
            source=doc.source,
            source_url=doc.source_url,
            source_type=doc.source_type,
            external_id=doc.external_id,
            content_hash=doc.content_hash,
            version=doc.version,
            status=doc.status,
            chunk_count=doc.chunk_count,
            char_count=doc.char_count,
            metadata=doc.metadata_ or {},
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            text=doc.text if with_text else None,
        )


class ChunkOut(BaseModel):
    """A chunk with what a citation names: its document's title and source, its offsets."""

    id: str
    document_id: str
    knowledge_base_id: str
    organization_id: str
    title: str
    source: str
    source_type: str
    version: int
    ordinal: int
    text: str
    char_start: int
    char_end: int
    token_count: int
    page_number: int | None
    section: list[str]

    @classmethod
    def of(cls, chunk: Chunk, document: Document) -> ChunkOut:
        return cls(
            id=chunk.id,
            document_id=chunk.document_id,
            knowledge_base_id=chunk.knowledge_base_id,
            organization_id=chunk.organization_id,
            title=document.title,
            source=document.source,
            source_type=document.source_type,
            version=document.version,
            ordinal=chunk.ordinal,
            text=chunk.text,
            char_start=chunk.char_start,
            char_end=chunk.char_end,
            token_count=chunk.token_count,
            page_number=chunk.page_number,
            section=list(chunk.section or []),
        )
