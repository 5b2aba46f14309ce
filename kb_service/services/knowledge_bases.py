"""Knowledge bases: create, list, read, update, delete (with their documents and vectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ingest.pipeline import ChunkingConfig, IngestPipeline
from kb_service.db.base import utcnow
from kb_service.db.content import Chunk, Document, KnowledgeBase, Project, TombstoneScope
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.pagination import Page, paginate
from kb_service.errors import InvalidInput, NotFound
from kb_service.services import scopes, tombstones
from kb_service.statuses import DocumentStatus
from kb_service.strict_json import checked_metadata
from retrieval.index import VectorIndex


@dataclass(frozen=True)
class KnowledgeBaseWithCounts:
    """A knowledge base with the number of its live documents and their chunks."""

    knowledge_base: KnowledgeBase
    document_count: int = 0
    chunk_count: int = 0


def load_kb(session: Session, *, organization_id: str, kb_id: str) -> KnowledgeBase:
    """The organization's knowledge base, inside the caller's transaction (else `NotFound`)."""
    kb = session.get(KnowledgeBase, kb_id)
    if kb is None or kb.organization_id != organization_id:
        raise NotFound.of("knowledge base", kb_id)
    return kb


def kb_counts(session: Session, kb_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(document_count, chunk_count) of each knowledge base, from live documents."""
    if not kb_ids:
        return {}
    rows = session.execute(
        select(
            Document.knowledge_base_id,
            func.count(),
            func.coalesce(func.sum(Document.chunk_count), 0),
        )
        .where(Document.knowledge_base_id.in_(kb_ids), Document.status == DocumentStatus.INDEXED)
        .group_by(Document.knowledge_base_id)
    ).all()
    counts = {kb_id: (0, 0) for kb_id in kb_ids}
    counts.update({kb_id: (int(docs), int(chunks)) for kb_id, docs, chunks in rows})
    return counts


def with_counts(session: Session, kbs: Sequence[KnowledgeBase]) -> list[KnowledgeBaseWithCounts]:
    """The knowledge bases with their live document and chunk counts, in the same order."""
    counts = kb_counts(session, [kb.id for kb in kbs])
    return [KnowledgeBaseWithCounts(kb, *counts[kb.id]) for kb in kbs]


def _check_project(session: Session, organization_id: str, project_id: str | None) -> None:
    if project_id is None:
        return
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise NotFound.of("project", project_id)


def _chunking(
    pipeline: IngestPipeline, max_tokens: int | None, overlap: int | None
) -> ChunkingConfig:
    try:
        return pipeline.chunking_config(max_tokens, overlap)
    except ValueError as exc:
        raise InvalidInput(
            str(exc), errors=[{"field": "chunking", "message": str(exc), "type": "value_error"}]
        ) from None


def _add_kb(
    session: Session,
    *,
    organization_id: str,
    pipeline: IngestPipeline,
    name: str,
    description: str | None = None,
    project_id: str | None = None,
    max_tokens: int | None = None,
    overlap_tokens: int | None = None,
    metadata: dict[str, Any] | None = None,
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
        metadata_=checked_metadata(metadata or {}),
        created_at=now,
        updated_at=now,
    )
    session.add(kb)
    session.flush()
    return kb


def create_knowledge_base(
    db: Database,
    *,
    organization_id: str,
    pipeline: IngestPipeline,
    name: str,
    description: str | None = None,
    project_id: str | None = None,
    max_tokens: int | None = None,
    overlap_tokens: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> KnowledgeBaseWithCounts:
    """A new, empty knowledge base; chunking defaults come from the pipeline."""
    with db.session() as session:
        kb = _add_kb(
            session,
            organization_id=organization_id,
            pipeline=pipeline,
            name=name,
            description=description,
            project_id=project_id,
            max_tokens=max_tokens,
            overlap_tokens=overlap_tokens,
            metadata=metadata,
        )
    return KnowledgeBaseWithCounts(kb)


def _by_name(session: Session, organization_id: str, name: str) -> KnowledgeBase | None:
    return session.scalars(
        select(KnowledgeBase).where(
            KnowledgeBase.organization_id == organization_id, KnowledgeBase.name == name
        )
    ).first()


def find_kb_by_name(db: Database, *, organization_id: str, name: str) -> KnowledgeBase | None:
    """The organization's knowledge base called `name` (names are how the CLI refers to them)."""
    with db.session() as session:
        return _by_name(session, organization_id, name)


def kb_by_name(
    db: Database,
    *,
    organization_id: str,
    pipeline: IngestPipeline,
    name: str,
    description: str | None = None,
) -> KnowledgeBase:
    """The knowledge base called `name`, created with default chunking if there is none."""
    with db.session() as session:
        kb = _by_name(session, organization_id, name)
        if kb is None:
            kb = _add_kb(
                session,
                organization_id=organization_id,
                pipeline=pipeline,
                name=name,
                description=description,
            )
        return kb


def list_knowledge_bases(
    db: Database, *, organization_id: str, scope: scopes.Scope, limit: int, cursor: str | None
) -> Page[KnowledgeBaseWithCounts]:
    """The organization's knowledge bases inside the key's scope, oldest first."""
    with db.session() as session:
        page = paginate(
            session,
            select(KnowledgeBase).where(
                KnowledgeBase.organization_id == organization_id, scopes.kb_condition(scope)
            ),
            created_at=KnowledgeBase.created_at,
            row_id=KnowledgeBase.id,
            limit=limit,
            cursor=cursor,
        )
        return Page(with_counts(session, page.items), page.next_cursor)


def get_knowledge_base(
    db: Database, *, organization_id: str, kb_id: str
) -> KnowledgeBaseWithCounts:
    """One of the organization's knowledge bases with its counts (else `NotFound`)."""
    with db.session() as session:
        kb = load_kb(session, organization_id=organization_id, kb_id=kb_id)
        return with_counts(session, [kb])[0]


def update_knowledge_base(
    db: Database,
    *,
    organization_id: str,
    kb_id: str,
    pipeline: IngestPipeline,
    changes: dict[str, Any],
    scope: scopes.Scope,
) -> KnowledgeBaseWithCounts:
    """Apply a partial update; new chunking settings apply to documents ingested from now on.

    A scoped key may only name a project inside its scope, and cannot move the
    knowledge base out of it (`NotFound`)."""
    with db.session() as session:
        kb = load_kb(session, organization_id=organization_id, kb_id=kb_id)
        if "project_id" in changes:
            if changes["project_id"] is not None:
                scopes.check_project(scope, changes["project_id"])
            _check_project(session, organization_id, changes["project_id"])
            kb.project_id = changes["project_id"]
            scopes.check_kb(scope, kb)
        for field in ("name", "description"):
            if field in changes:
                setattr(kb, field, changes[field])
        if "metadata" in changes:
            kb.metadata_ = checked_metadata(changes["metadata"] or {})
        if "chunking" in changes and changes["chunking"] is not None:
            chunking = changes["chunking"]
            config = _chunking(pipeline, chunking.get("max_tokens"), chunking.get("overlap_tokens"))
            kb.chunk_max_tokens, kb.chunk_overlap_tokens = config.max_tokens, config.overlap_tokens
        kb.updated_at = utcnow()
        session.flush()
        return with_counts(session, [kb])[0]


def delete_knowledge_base(
    db: Database, *, index: VectorIndex, organization_id: str, kb_id: str
) -> None:
    """Delete the knowledge base, its documents and chunks (emits `kb.deleted`), then its vectors.

    The vectors go after the commit, under a tombstone written with it (the next start
    deletes them if they cannot go now); until then they are invisible, because
    searches only return chunks of live documents.
    """
    with db.session() as session:
        kb = load_kb(session, organization_id=organization_id, kb_id=kb_id)
        session.execute(delete(Chunk).where(Chunk.knowledge_base_id == kb_id))
        session.execute(delete(Document).where(Document.knowledge_base_id == kb_id))
        record_event(
            session,
            organization_id=organization_id,
            type="kb.deleted",
            data={"knowledge_base_id": kb_id, "name": kb.name},
        )
        session.delete(kb)
        tombstones.bury(session, TombstoneScope.KNOWLEDGE_BASE, kb_id)
    tombstones.remove_vectors(db, index, TombstoneScope.KNOWLEDGE_BASE, kb_id)
