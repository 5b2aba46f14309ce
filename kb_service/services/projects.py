"""Projects: group knowledge bases and meetings; list what is attached to one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from kb_service.api.pagination import decode_cursor, encode_cursor
from kb_service.db.base import utcnow
from kb_service.db.content import Document, KnowledgeBase, Project
from kb_service.db.meetings import Meeting
from kb_service.errors import NotFound


def create_project(
    session: Session,
    *,
    organization_id: str,
    name: str,
    description: str | None,
    metadata: dict[str, Any],
) -> Project:
    project = Project(
        organization_id=organization_id,
        name=name,
        description=description,
        metadata_=metadata,
        created_at=utcnow(),
    )
    session.add(project)
    session.flush()
    return project


def get_project(session: Session, *, organization_id: str, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise NotFound.of("project", project_id)
    return project


def project_counts(session: Session, project_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(knowledge_base_count, meeting_count) of each project."""
    counts = {p: (0, 0) for p in project_ids}
    if not project_ids:
        return counts
    kbs = dict(
        session.execute(
            select(KnowledgeBase.project_id, func.count())
            .where(KnowledgeBase.project_id.in_(project_ids))
            .group_by(KnowledgeBase.project_id)
        ).all()
    )
    meetings = dict(
        session.execute(
            select(Meeting.project_id, func.count())
            .where(Meeting.project_id.in_(project_ids))
            .group_by(Meeting.project_id)
        ).all()
    )
    return {p: (int(kbs.get(p, 0)), int(meetings.get(p, 0))) for p in project_ids}


@dataclass(frozen=True)
class ContentItem:
    """A knowledge base or a document attached to a project."""

    type: str  # "knowledge_base" | "document"
    knowledge_base: KnowledgeBase
    document: Document | None
    created_at: datetime
    id: str


def project_content(
    session: Session, *, organization_id: str, project_id: str, limit: int, cursor: str | None
) -> tuple[list[ContentItem], str | None]:
    """The project's knowledge bases and their documents, one keyset over (created_at, id).

    Both tables are paged with the same cursor and merged, so a page never repeats or
    skips an item even while knowledge bases and documents are added.
    """
    get_project(session, organization_id=organization_id, project_id=project_id)
    after = decode_cursor(cursor) if cursor else None

    def page_of(created: Any, row_id: Any, statement: Any) -> Any:
        if after is not None:
            statement = statement.where(
                or_(created > after[0], and_(created == after[0], row_id > after[1]))
            )
        return statement.order_by(created, row_id).limit(limit + 1)

    kbs = session.scalars(
        page_of(
            KnowledgeBase.created_at,
            KnowledgeBase.id,
            select(KnowledgeBase).where(
                KnowledgeBase.organization_id == organization_id,
                KnowledgeBase.project_id == project_id,
            ),
        )
    ).all()
    docs = session.execute(
        page_of(
            Document.created_at,
            Document.id,
            select(Document, KnowledgeBase)
            .join(KnowledgeBase, KnowledgeBase.id == Document.knowledge_base_id)
            .where(
                KnowledgeBase.organization_id == organization_id,
                KnowledgeBase.project_id == project_id,
            ),
        )
    ).all()
    items = [ContentItem("knowledge_base", kb, None, kb.created_at, kb.id) for kb in kbs]
    items += [ContentItem("document", kb, doc, doc.created_at, doc.id) for doc, kb in docs]
    items.sort(key=lambda item: (item.created_at, item.id))
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_cursor(items[-1].created_at, items[-1].id)
