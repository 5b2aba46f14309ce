"""Documents and their chunks: read and delete."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb_service.db.content import Chunk, Document
from kb_service.db.events import record_event
from kb_service.errors import NotFound
from kb_service.services.knowledge_bases import get_kb
from retrieval.index import PointFilter, VectorIndex


def get_document(
    session: Session, *, organization_id: str, kb_id: str, document_id: str
) -> Document:
    get_kb(session, organization_id=organization_id, kb_id=kb_id)
    document = session.get(Document, document_id)
    if document is None or document.knowledge_base_id != kb_id or document.status != "indexed":
        raise NotFound.of("document", document_id)
    return document


def delete_document(
    session: Session, *, organization_id: str, kb_id: str, document_id: str
) -> Document:
    """Delete a document and its chunks; emits `document.deleted`. Vectors go after commit."""
    document = get_document(
        session, organization_id=organization_id, kb_id=kb_id, document_id=document_id
    )
    session.execute(delete(Chunk).where(Chunk.document_id == document_id))
    record_event(
        session,
        organization_id=organization_id,
        type="document.deleted",
        data={"knowledge_base_id": kb_id, "document_id": document_id, "title": document.title},
    )
    session.delete(document)
    return document


def drop_document_vectors(index: VectorIndex, *, document_id: str) -> None:
    index.delete(PointFilter.where(document_id=document_id))
