"""Knowledge bases: create, list, read, update, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, Cursor, Index, Limit, Pipeline, Reader, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.knowledge_bases import (
    KnowledgeBaseIn,
    KnowledgeBaseOut,
    KnowledgeBasePatch,
)
from kb_service.services import knowledge_bases as service

router = APIRouter(prefix="/knowledge-bases", tags=["knowledge bases"], route_class=StrictJsonRoute)


@router.post("", status_code=201, response_model=Envelope[KnowledgeBaseOut])
def create_knowledge_base(
    body: KnowledgeBaseIn, principal: Writer, db: DB, pipeline: Pipeline
) -> Any:
    """Create a knowledge base."""
    kb = service.create_knowledge_base(
        db,
        organization_id=principal.organization_id,
        pipeline=pipeline,
        name=body.name,
        description=body.description,
        project_id=body.project_id,
        max_tokens=body.chunking.max_tokens if body.chunking else None,
        overlap_tokens=body.chunking.overlap_tokens if body.chunking else None,
        metadata=body.metadata,
    )
    return ok(KnowledgeBaseOut.of(kb).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[KnowledgeBaseOut])
def list_knowledge_bases(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """List the organization's knowledge bases, oldest first."""
    kbs = service.list_knowledge_bases(
        db,
        organization_id=principal.organization_id,
        scope=principal.scope,
        limit=limit,
        cursor=cursor,
    )
    return page(
        [KnowledgeBaseOut.of(kb).model_dump(mode="json") for kb in kbs.items], kbs.next_cursor
    )


@router.get("/{kb_id}", response_model=Envelope[KnowledgeBaseOut])
def get_knowledge_base(kb_id: str, principal: Reader, db: DB) -> Any:
    """Get one knowledge base with its document and chunk counts."""
    kb = service.get_knowledge_base(db, organization_id=principal.organization_id, kb_id=kb_id)
    return ok(KnowledgeBaseOut.of(kb).model_dump(mode="json"))


@router.patch("/{kb_id}", response_model=Envelope[KnowledgeBaseOut])
def update_knowledge_base(
    kb_id: str, body: KnowledgeBasePatch, principal: Writer, db: DB, pipeline: Pipeline
) -> Any:
    """Change a knowledge base's name, description, project, chunking or metadata."""
    kb = service.update_knowledge_base(
        db,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        pipeline=pipeline,
        changes=body.model_dump(exclude_unset=True),
        scope=principal.scope,
    )
    return ok(KnowledgeBaseOut.of(kb).model_dump(mode="json"))


@router.delete("/{kb_id}", response_model=Envelope[dict[str, Any]])
def delete_knowledge_base(kb_id: str, principal: Writer, db: DB, index: Index) -> Any:
    """Delete a knowledge base, its documents, chunks and vectors."""
    service.delete_knowledge_base(
        db, index=index, organization_id=principal.organization_id, kb_id=kb_id
    )
    return ok({"id": kb_id, "deleted": True})
