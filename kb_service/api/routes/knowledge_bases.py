"""Knowledge bases, their documents and chunks, and ingestion into them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from kb_service.api.deps import DB, Reader, RuntimeDep, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from kb_service.api.schemas import (
    ChunkOut,
    DocumentOut,
    IngestJobOut,
    KnowledgeBaseIn,
    KnowledgeBaseOut,
    KnowledgeBasePatch,
    TextIngestIn,
)
from kb_service.db.content import Chunk, Document, KnowledgeBase
from kb_service.errors import InvalidInput, UnsupportedMediaType
from kb_service.services import documents as doc_service
from kb_service.services import ingestion
from kb_service.services import knowledge_bases as kb_service

router = APIRouter(prefix="/knowledge-bases", tags=["knowledge bases"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post("", status_code=201, response_model=Envelope[KnowledgeBaseOut])
def create_knowledge_base(
    body: KnowledgeBaseIn, principal: Writer, db: DB, runtime: RuntimeDep
) -> Any:
    """Create a knowledge base."""
    with db.session() as session:
        kb = kb_service.create_kb(
            session,
            organization_id=principal.organization_id,
            pipeline=runtime.pipeline,
            name=body.name,
            description=body.description,
            project_id=body.project_id,
            max_tokens=body.chunking.max_tokens if body.chunking else None,
            overlap_tokens=body.chunking.overlap_tokens if body.chunking else None,
            metadata=body.metadata,
        )
        return ok(KnowledgeBaseOut.of(kb, (0, 0)).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[KnowledgeBaseOut])
def list_knowledge_bases(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Any:
    """List the organization's knowledge bases, oldest first."""
    with db.session() as session:
        rows, next_cursor = paginate(
            session,
            select(KnowledgeBase).where(KnowledgeBase.organization_id == principal.organization_id),
            created_at=KnowledgeBase.created_at,
            row_id=KnowledgeBase.id,
            limit=limit,
            cursor=cursor,
        )
        counts = kb_service.kb_counts(session, [kb.id for kb in rows])
        return page(
            [KnowledgeBaseOut.of(kb, counts[kb.id]).model_dump(mode="json") for kb in rows],
            next_cursor,
        )


@router.get("/{kb_id}", response_model=Envelope[KnowledgeBaseOut])
def get_knowledge_base(kb_id: str, principal: Reader, db: DB) -> Any:
    """Get one knowledge base with its document and chunk counts."""
    with db.session() as session:
        kb = kb_service.get_kb(session, organization_id=principal.organization_id, kb_id=kb_id)
        counts = kb_service.kb_counts(session, [kb.id])[kb.id]
        return ok(KnowledgeBaseOut.of(kb, counts).model_dump(mode="json"))


@router.patch("/{kb_id}", response_model=Envelope[KnowledgeBaseOut])
def update_knowledge_base(
    kb_id: str, body: KnowledgeBasePatch, principal: Writer, db: DB, runtime: RuntimeDep
) -> Any:
    """Change a knowledge base's name, description, project, chunking or metadata."""
    with db.session() as session:
        kb = kb_service.update_kb(
            session,
            organization_id=principal.organization_id,
            kb_id=kb_id,
            pipeline=runtime.pipeline,
            changes=body.model_dump(exclude_unset=True),
        )
        session.flush()
        counts = kb_service.kb_counts(session, [kb.id])[kb.id]
        return ok(KnowledgeBaseOut.of(kb, counts).model_dump(mode="json"))


@router.delete("/{kb_id}", response_model=Envelope[dict[str, Any]])
def delete_knowledge_base(kb_id: str, principal: Writer, db: DB, runtime: RuntimeDep) -> Any:
    """Delete a knowledge base, its documents, chunks and vectors."""
    with db.session() as session:
        kb_service.delete_kb(session, organization_id=principal.organization_id, kb_id=kb_id)
    kb_service.drop_kb_vectors(
        runtime.index, organization_id=principal.organization_id, kb_id=kb_id
    )
    return ok({"id": kb_id, "deleted": True})


_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "metadata": {
                            "type": "string",
                            "description": "JSON object applied to every file",
                        },
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TextIngestIn"}},
        },
    }
}


@router.post(
    "/{kb_id}/ingest",
    status_code=202,
    response_model=Envelope[IngestJobOut],
    openapi_extra=_INGEST_BODY,
)
async def ingest(
    kb_id: str, request: Request, principal: Writer, db: DB, runtime: RuntimeDep
) -> Any:
    """Queue files (multipart `files`) or JSON text documents for ingestion; returns the job."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    uploads: list[ingestion.Upload] = []
    records: list[ingestion.TextRecord] = []
    metadata: dict[str, Any] = {}
    if content_type == "multipart/form-data":
        form = await request.form(max_files=ingestion.MAX_DOCUMENTS_PER_JOB, max_fields=50)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInput(
                "Attach one or more files in the multipart field 'files'.",
                errors=[{"field": "files", "message": "no files", "type": "missing"}],
            )
        metadata = _metadata_field(form.get("metadata"))
        for f in files:
            uploads.append(ingestion.Upload(f.filename, await f.read(), f.content_type))
        await form.close()
    elif content_type == "application/json":
        body = TextIngestIn.model_validate(await _json_body(request))
        metadata = body.metadata
        records = [
            ingestion.TextRecord(
                text=d.text,
                title=d.title,
                source_url=str(d.source_url) if d.source_url else None,
                external_id=d.external_id,
                metadata=d.metadata,
            )
            for d in body.documents
        ]
    else:
        raise UnsupportedMediaType(
            "Send files as multipart/form-data (field 'files') or text as application/json."
        )

    def submit() -> Any:
        with db.session() as session:
            job = ingestion.submit_ingest(
                session,
                organization_id=principal.organization_id,
                kb_id=kb_id,
                uploads=uploads,
                records=records,
                metadata=metadata,
            )
            session.flush()
            items = ingestion.job_items(session, job_id=job.id)
            return IngestJobOut.of(job, items).model_dump(mode="json")

    try:
        result = await run_in_threadpool(submit)
    except ValidationError as exc:  # pragma: no cover - validated above
        raise InvalidInput("Some fields of the request are invalid.") from exc
    runtime.job_queued()
    return ok(result)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The request body is not valid JSON.") from None


def _metadata_field(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(
            "The 'metadata' field must be a JSON object.",
            errors=[{"field": "metadata", "message": "not a JSON object", "type": "value_error"}],
        )
    return value


@router.get("/{kb_id}/documents", response_model=ListEnvelope[DocumentOut])
def list_documents(
    kb_id: str, principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Any:
    """List the knowledge base's documents, oldest first."""
    with db.session() as session:
        kb_service.get_kb(session, organization_id=principal.organization_id, kb_id=kb_id)
        rows, next_cursor = paginate(
            session,
            select(Document).where(
                Document.knowledge_base_id == kb_id, Document.status == "indexed"
            ),
            created_at=Document.created_at,
            row_id=Document.id,
            limit=limit,
            cursor=cursor,
        )
        return page([DocumentOut.of(d).model_dump(mode="json") for d in rows], next_cursor)


@router.get("/{kb_id}/documents/{document_id}", response_model=Envelope[DocumentOut])
def get_document(
    kb_id: str, document_id: str, principal: Reader, db: DB, include_text: bool = False
) -> Any:
    """Get a document; `include_text=true` adds its extracted text (what offsets index into)."""
    with db.session() as session:
        document = doc_service.get_document(
            session, organization_id=principal.organization_id, kb_id=kb_id, document_id=document_id
        )
        return ok(DocumentOut.of(document, with_text=include_text).model_dump(mode="json"))


@router.get("/{kb_id}/documents/{document_id}/chunks", response_model=ListEnvelope[ChunkOut])
def list_document_chunks(
    kb_id: str,
    document_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """A document's chunks in order, with their offsets into its extracted text."""
    with db.session() as session:
        document = doc_service.get_document(
            session, organization_id=principal.organization_id, kb_id=kb_id, document_id=document_id
        )
        rows, next_cursor = paginate(
            session,
            select(Chunk).where(Chunk.document_id == document_id),
            created_at=Chunk.created_at,
            row_id=Chunk.id,
            limit=limit,
            cursor=cursor,
        )
        chunks = [ChunkOut.of(c, document).model_dump(mode="json") for c in rows]
        return page(chunks, next_cursor)


@router.delete("/{kb_id}/documents/{document_id}", response_model=Envelope[dict[str, Any]])
def delete_document(
    kb_id: str, document_id: str, principal: Writer, db: DB, runtime: RuntimeDep
) -> Any:
    """Delete a document, its chunks and vectors."""
    with db.session() as session:
        doc_service.delete_document(
            session, organization_id=principal.organization_id, kb_id=kb_id, document_id=document_id
        )
    doc_service.drop_document_vectors(runtime.index, document_id=document_id)
    return ok({"id": document_id, "deleted": True})
