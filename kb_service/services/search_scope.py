"""Scope of a query: which knowledge bases, documents and times a search may return.

Resolved in SQL (the source of truth) into a `ChunkScope` for the vector index:
knowledge bases and projects named by the caller must be theirs (else `NotFound`);
metadata conditions become the ids of the matching live documents; anything that
matches nothing becomes an empty id list, which searches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.content import Document, KnowledgeBase, Project
from kb_service.db.meetings import Meeting
from kb_service.errors import NotFound
from kb_service.services.knowledge_bases import load_kb
from kb_service.statuses import DocumentStatus
from retrieval.index import FieldMatch
from retrieval.search import ChunkScope

# Printable ASCII except `"` and backslash: the keys JSON stores unescaped.
_PLAIN_KEY = re.compile(r"[ !#-\[\]-~]*")


@dataclass(frozen=True)
class QueryFilter:
    """The request's `filter`: every given field must hold (None = unconstrained)."""

    document_ids: tuple[str, ...] | None = None
    knowledge_base_ids: tuple[str, ...] | None = None
    source_types: tuple[str, ...] | None = None
    metadata: dict[str, Any] | None = None  # key → value, or key → {"in": [values]}
    created_after: datetime | None = None
    created_before: datetime | None = None


def kb_scope(
    session: Session, *, organization_id: str, kb_id: str, filters: QueryFilter
) -> ChunkScope:
    """The scope of a query on one knowledge base (404 if it is not the caller's)."""
    load_kb(session, organization_id=organization_id, kb_id=kb_id)
    kb_ids: tuple[str, ...] = (kb_id,)
    if filters.knowledge_base_ids is not None:
        kb_ids = kb_ids if kb_id in filters.knowledge_base_ids else ()
    return _apply_filters(session, organization_id, kb_ids, filters, include_meetings=False)


def organization_scope(
    session: Session,
    *,
    organization_id: str,
    knowledge_base_ids: Sequence[str] | None,
    project_ids: Sequence[str] | None,
    include_meetings: bool,
    filters: QueryFilter,
) -> ChunkScope:
    """Scope of an organization-wide search: the named knowledge bases plus every
    knowledge base (and, with `include_meetings`, every meeting) of the named projects
    (404 for ids that are not the caller's). Without names: everything, meetings too
    when `include_meetings`; naming only knowledge bases leaves meetings out."""
    kb_ids: tuple[str, ...] | None = None
    if knowledge_base_ids is not None or project_ids is not None:
        chosen = [
            load_kb(session, organization_id=organization_id, kb_id=k).id
            for k in knowledge_base_ids or ()
        ]
        for project_id in project_ids or ():
            project = session.get(Project, project_id)
            if project is None or project.organization_id != organization_id:
                raise NotFound.of("project", project_id)
        if project_ids:
            chosen += session.scalars(
                select(KnowledgeBase.id).where(
                    KnowledgeBase.organization_id == organization_id,
                    KnowledgeBase.project_id.in_(project_ids),
                )
            ).all()
        kb_ids = tuple(dict.fromkeys(chosen))
    if filters.knowledge_base_ids is not None:
        wanted = set(filters.knowledge_base_ids)
        candidates = filters.knowledge_base_ids if kb_ids is None else kb_ids
        kb_ids = tuple(k for k in candidates if k in wanted)
    scope = _apply_filters(session, organization_id, kb_ids, filters, include_meetings)
    # named projects bring their meetings: "in these knowledge bases, or one
    # of these meetings" (meeting points carry no knowledge_base_id).
    if include_meetings and project_ids and filters.knowledge_base_ids is None:
        meeting_ids = tuple(
            session.scalars(
                select(Meeting.id).where(
                    Meeting.organization_id == organization_id,
                    Meeting.project_id.in_(project_ids),
                )
            ).all()
        )
        if meeting_ids:
            alternatives = [FieldMatch("meeting_id", meeting_ids)]
            if scope.knowledge_base_ids:
                alternatives.insert(0, FieldMatch("knowledge_base_id", scope.knowledge_base_ids))
            scope = replace(scope, knowledge_base_ids=None, any_of=tuple(alternatives))
    return scope


def _apply_filters(
    session: Session,
    organization_id: str,
    kb_ids: tuple[str, ...] | None,
    filters: QueryFilter,
    include_meetings: bool,
) -> ChunkScope:
    doc_ids = filters.document_ids
    if filters.metadata:
        matching = _documents_with_metadata(session, organization_id, kb_ids, filters.metadata)
        doc_ids = matching if doc_ids is None else tuple(d for d in doc_ids if d in matching)
    return ChunkScope(
        organization_id=organization_id,
        knowledge_base_ids=kb_ids,
        document_ids=doc_ids,
        source_types=filters.source_types,
        # Meeting points carry no knowledge_base_id, so a KB scope excludes them anyway;
        # the meetings issue adds "or these meetings" alternatives via `any_of`.
        excluded_source_types=() if include_meetings else ("meeting",),
        created_after=filters.created_after.timestamp() if filters.created_after else None,
        created_before=filters.created_before.timestamp() if filters.created_before else None,
    )


def _documents_with_metadata(
    session: Session, organization_id: str, kb_ids: tuple[str, ...] | None, wanted: dict[str, Any]
) -> tuple[str, ...]:
    """Live documents whose metadata matches every condition (equality or `in`)."""
    conditions = {k: (v["in"] if isinstance(v, dict) else [v]) for k, v in wanted.items()}
    query = select(Document.id, Document.metadata_).where(
        Document.organization_id == organization_id, Document.status == DocumentStatus.INDEXED
    )
    if kb_ids is not None:
        query = query.where(Document.knowledge_base_id.in_(kb_ids))
    for key, values in conditions.items():
        strings = [v for v in values if isinstance(v, str)]
        # Narrow in SQL (exact check below in Python), only by keys that SQLite's JSON
        # path finds: it compares them with the stored text, where JSON escapes the rest.
        if len(strings) == len(values) and _PLAIN_KEY.fullmatch(key):
            query = query.where(Document.metadata_[key].as_string().in_(strings))
    return tuple(
        doc_id
        for doc_id, metadata in session.execute(query).all()
        if all(_has_value(metadata or {}, k, vs) for k, vs in conditions.items())
    )


def _has_value(metadata: dict[str, Any], key: str, values: list[Any]) -> bool:
    if key not in metadata:
        return False
    actual = metadata[key]
    # JSON true is not 1: compare type as well as value.
    return any(type(actual) is type(v) and actual == v for v in values)
