"""Request and response bodies of the ingest routes: text records in, ingest jobs out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from kb_service.services.ingestion import IngestJobWithItems, TextRecord, item_view
from kb_service.statuses import ItemStatus, JobStatus


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

    def to_records(self) -> list[TextRecord]:
        return [
            TextRecord(
                text=d.text,
                title=d.title,
                source_url=str(d.source_url) if d.source_url else None,
                external_id=d.external_id,
                metadata=d.metadata,
            )
            for d in self.documents
        ]


class JobProgress(BaseModel):
    documents_total: int
    documents_done: int
    chunks_indexed: int


class JobDocument(BaseModel):
    filename: str | None
    title: str | None
    external_id: str | None
    status: ItemStatus
    document_id: str | None
    version: int | None
    chunk_count: int
    error: str | None


class IngestJobOut(BaseModel):
    id: str
    knowledge_base_id: str
    status: JobStatus
    progress: JobProgress
    documents: list[JobDocument]
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, submitted: IngestJobWithItems) -> IngestJobOut:
        job = submitted.job
        return cls(
            id=job.id,
            knowledge_base_id=job.knowledge_base_id,
            status=job.status,
            progress=JobProgress(
                documents_total=job.documents_total,
                documents_done=job.documents_done,
                chunks_indexed=job.chunks_indexed,
            ),
            documents=[JobDocument(**item_view(i)) for i in submitted.items],
            error=job.error,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
