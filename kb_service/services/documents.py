"""Documents and their chunks: list, read, delete (with their vectors)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb_service.db.content import Chunk, Document, TombstoneScope
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.pagination import Page, paginate
from kb_service.errors import NotFound
from kb_service.services import tombstones
from kb_service.services.knowledge_bases import load_kb
from kb_service.statuses import DocumentStatus
from retrieval.index import VectorIndex


def _load_document(
    session: Session, *, organization_id: str, kb_id: str, document_id: str
) -> Document:
    load_kb(session, organization_id=organization_id, kb_id=kb_id)
    document = session.get(Document, document_id)
    if (
        document is None
        or document.knowledge_base_id != kb_id
        or document.status != DocumentStatus.INDEXED
    ):
        raise NotFound.of("document", document_id)
    return document


def list_documents(
    db: Database, *, organization_id: str, kb_id: str, limit: int, cursor: str | None
) -> Page[Document]:
    """The knowledge base's live documents, oldest first."""
    with db.session() as session:
        load_kb(session, organization_id=organization_id, kb_id=kb_id)
        return paginate(
            session,
            select(Document).where(
                Document.knowledge_base_id == kb_id, Document.status == DocumentStatus.INDEXED
            ),
            created_at=Document.created_at,
            row_id=Document.id,
            limit=limit,
            cursor=cursor,
        )


def get_document(db: Database, *, organization_id: str, kb_id: str, document_id: str) -> Document:
    """A live document of the organization's knowledge base (else `NotFound`)."""
    with db.session() as session:
        return _load_document(
            session, organization_id=organization_id, kb_id=kb_id, document_id=document_id
        )


def list_chunks(
    db: Database,
    *,
    organization_id: str,
    kb_id: str,
    document_id: str,
    limit: int,
    cursor: str | None,
) -> tuple[Document, Page[Chunk]]:
    """The document and one page of its chunks, in order."""
    with db.session() as session:
        document = _load_document(
            session, organization_id=organization_id, kb_id=kb_id, document_id=document_id
        )
        chunks = paginate(
            session,
            select(Chunk).where(Chunk.document_id == document_id),
            created_at=Chunk.created_at,
            row_id=Chunk.id,
            limit=limit,
            cursor=cursor,
        )
        return document, chunks


def delete_document(
    db: Database, *, index: VectorIndex, organization_id: str, kb_id: str, document_id: str
) -> None:
    """Delete a document and its chunks (emits `document.deleted`), then its vectors.

    The vectors go after the commit, under a tombstone written with it: if they cannot
    be deleted now, the next start does it (`services/tombstones.py`). Until then
    searches skip them (the document is gone).
    """
    with db.session() as session:
        document = _load_document(
            session, organization_id=organization_id, kb_id=kb_id, document_id=document_id
        )
        delete_document_rows(session, document)
    tombstones.remove_vectors(db, index, TombstoneScope.DOCUMENT, document_id)


def delete_document_rows(session: Session, document: Document) -> None:
    """Inside the caller's transaction: the document, its chunks, a tombstone, the event.

    The caller removes the vectors after the commit (`tombstones.remove_vectors`).
    """
    session.execute(delete(Chunk).where(Chunk.document_id == document.id))
    record_event(
        session,
        organization_id=document.organization_id,
        type="document.deleted",
        data={
            "knowledge_base_id": document.knowledge_base_id,
            "document_id": document.id,
            "title": document.title,
        },
    )
    session.delete(document)
    tombstones.bury(session, TombstoneScope.DOCUMENT, document.id)
