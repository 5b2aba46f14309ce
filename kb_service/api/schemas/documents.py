"""Response bodies of the document routes: documents and their chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kb_service.db.content import Chunk, Document
from kb_service.statuses import DocumentStatus


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
    status: DocumentStatus
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
