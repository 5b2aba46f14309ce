"""A knowledge base's documents and their chunks: list, read, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, Cursor, Index, Limit, Reader, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.documents import ChunkOut, DocumentOut
from kb_service.services import documents as service

router = APIRouter(
    prefix="/knowledge-bases/{kb_id}/documents",
    tags=["knowledge bases"],
    route_class=StrictJsonRoute,
)


@router.get("", response_model=ListEnvelope[DocumentOut])
def list_documents(
    kb_id: str, principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """List the knowledge base's documents, oldest first."""
    docs = service.list_documents(
        db, organization_id=principal.organization_id, kb_id=kb_id, limit=limit, cursor=cursor
    )
    return page([DocumentOut.of(d).model_dump(mode="json") for d in docs.items], docs.next_cursor)


@router.get("/{document_id}", response_model=Envelope[DocumentOut])
def get_document(
    kb_id: str, document_id: str, principal: Reader, db: DB, include_text: bool = False
) -> Any:
    """Get a document; `include_text=true` adds its extracted text (what offsets index into)."""
    document = service.get_document(
        db, organization_id=principal.organization_id, kb_id=kb_id, document_id=document_id
    )
    return ok(DocumentOut.of(document, with_text=include_text).model_dump(mode="json"))


@router.get("/{document_id}/chunks", response_model=ListEnvelope[ChunkOut])
def list_document_chunks(
    kb_id: str,
    document_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """A document's chunks in order, with their offsets into its extracted text."""
    document, chunks = service.list_chunks(
        db,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        document_id=document_id,
        limit=limit,
        cursor=cursor,
    )
    items = [ChunkOut.of(c, document).model_dump(mode="json") for c in chunks.items]
    return page(items, chunks.next_cursor)


@router.delete("/{document_id}", response_model=Envelope[dict[str, Any]])
def delete_document(kb_id: str, document_id: str, principal: Writer, db: DB, index: Index) -> Any:
    """Delete a document, its chunks and vectors."""
    service.delete_document(
        db,
        index=index,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        document_id=document_id,
    )
    return ok({"id": document_id, "deleted": True})
