"""Knowledge bases: create, read, update, delete (with their documents and vectors)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ingest.pipeline import IngestPipeline
from kb_service.db.base import utcnow
from kb_service.db.content import Chunk, Document, KnowledgeBase, Project
from kb_service.db.events import record_event
from kb_service.errors import InvalidInput, NotFound
from retrieval.index import PointFilter, VectorIndex


def get_kb(session: Session, *, organization_id: str, kb_id: str) -> KnowledgeBase:
    kb = session.get(KnowledgeBase, kb_id)
    if kb is None or kb.organization_id != organization_id:
        raise NotFound.of("knowledge base", kb_id)
    return kb


def _check_project(session: Session, organization_id: str, project_id: str | None) -> None:
    if project_id is None:
        return
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise NotFound.of("project", project_id)


def _chunking(pipeline: IngestPipeline, max_tokens: int | None, overlap: int | None):  # type: ignore[no-untyped-def]
    try:
        return pipeline.chunking_config(max_tokens, overlap)
    except ValueError as exc:
        raise InvalidInput(
            str(exc), errors=[{"field": "chunking", "message": str(exc), "type": "value_error"}]
        ) from None


def create_kb(
    session: Session,
    *,
    organization_id: str,
    pipeline: IngestPipeline,
    name: str,
    description: str | None,
    project_id: str | None,
    max_tokens: int | None,
    overlap_tokens: int | None,
    metadata: dict[str, Any],
) -> KnowledgeBase:
    _check_project(session, organization_id, project_id)
    config = _chunking(pipeline, max_tokens, overlap_tokens)
    now = utcnow()
    kb = KnowledgeBase(
        organization_id=organization_id,
        project_id=project_id,
        name=name,
        description=description,
        chunk_max_tokens=config.max_tokens,
        chunk_overlap_tokens=config.overlap_tokens,
        metadata_=metadata,
        created_at=now,
        updated_at=now,
    )
    session.add(kb)
    session.flush()
    return kb


def find_kb_by_name(session: Session, *, organization_id: str, name: str) -> KnowledgeBase | None:
    """The organization's knowledge base called `name` (names are how the CLI refers to them)."""
    return session.scalars(
        select(KnowledgeBase).where(
            KnowledgeBase.organization_id == organization_id, KnowledgeBase.name == name
        )
    ).first()


def kb_by_name(
    session: Session,
    *,
    organization_id: str,
    pipeline: IngestPipeline,
    name: str,
    description: str | None = None,
) -> KnowledgeBase:
    """The knowledge base called `name`, created with default chunking if there is none."""
    kb = find_kb_by_name(session, organization_id=organization_id, name=name)
    if kb is None:
        kb = create_kb(
            session,
            organization_id=organization_id,
            pipeline=pipeline,
            name=name,
            description=description,
            project_id=None,
            max_tokens=None,
            overlap_tokens=None,
            metadata={},
        )
    return kb


def update_kb(
    session: Session,
    *,
    organization_id: str,
    kb_id: str,
    pipeline: IngestPipeline,
    changes: dict[str, Any],
) -> KnowledgeBase:
    """Apply a partial update; new chunking settings apply to documents ingested from now on."""
    kb = get_kb(session, organization_id=organization_id, kb_id=kb_id)
    if "project_id" in changes:
        _check_project(session, organization_id, changes["project_id"])
        kb.project_id = changes["project_id"]
    for field in ("name", "description"):
        if field in changes:
            setattr(kb, field, changes[field])
    if "metadata" in changes:
        kb.metadata_ = changes["metadata"] or {}
    if "chunking" in changes and changes["chunking"] is not None:
        chunking = changes["chunking"]
        config = _chunking(pipeline, chunking.get("max_tokens"), chunking.get("overlap_tokens"))
        kb.chunk_max_tokens, kb.chunk_overlap_tokens = config.max_tokens, config.overlap_tokens
    kb.updated_at = utcnow()
    return kb


def kb_counts(session: Session, kb_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(document_count, chunk_count) of each knowledge base, from live documents."""
    if not kb_ids:
        return {}
    rows = session.execute(
        select(
            Document.knowledge_base_id,
            func.count(),
            func.coalesce(func.sum(Document.chunk_count), 0),
        )
        .where(Document.knowledge_base_id.in_(kb_ids), Document.status == "indexed")
        .group_by(Document.knowledge_base_id)
    ).all()
    counts = {kb_id: (0, 0) for kb_id in kb_ids}
    counts.update({kb_id: (int(docs), int(chunks)) for kb_id, docs, chunks in rows})
    return counts


def delete_kb(session: Session, *, organization_id: str, kb_id: str) -> KnowledgeBase:
    """Delete the knowledge base and its documents and chunks; emits `kb.deleted`.

    The caller removes the vectors after the commit (`drop_kb_vectors`); until then
    they are invisible, because searches only return chunks of live documents.
    """
    kb = get_kb(session, organization_id=organization_id, kb_id=kb_id)
    session.execute(delete(Chunk).where(Chunk.knowledge_base_id == kb_id))
    session.execute(delete(Document).where(Document.knowledge_base_id == kb_id))
    record_event(
        session,
        organization_id=organization_id,
        type="kb.deleted",
        data={"knowledge_base_id": kb_id, "name": kb.name},
    )
    session.delete(kb)
    return kb


def drop_kb_vectors(index: VectorIndex, *, organization_id: str, kb_id: str) -> None:
    index.delete(PointFilter.where(organization_id=organization_id, knowledge_base_id=kb_id))
