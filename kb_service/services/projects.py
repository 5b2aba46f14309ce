"""Projects: group knowledge bases and meetings; list what is attached to one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.content import Document, KnowledgeBase, Project
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting
from kb_service.db.pagination import Page, after_cursor, page_of, paginate
from kb_service.errors import NotFound
from kb_service.services.knowledge_bases import KnowledgeBaseWithCounts, with_counts
from kb_service.services.scopes import Scope, project_condition
from kb_service.strict_json import checked_metadata


@dataclass(frozen=True)
class ProjectWithCounts:
    """A project with the number of its knowledge bases and meetings."""

    project: Project
    knowledge_base_count: int = 0
    meeting_count: int = 0


@dataclass(frozen=True)
class ContentItem:
    """A knowledge base (with its counts) or a document attached to a project."""

    type: str  # "knowledge_base" | "document"
    id: str
    knowledge_base_id: str
    created_at: datetime
    knowledge_base: KnowledgeBaseWithCounts | None = None  # for type "knowledge_base"
    document: Document | None = None  # for type "document"


def load_project(session: Session, *, organization_id: str, project_id: str) -> Project:
    """The organization's project, inside the caller's transaction (else `NotFound`)."""
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise NotFound.of("project", project_id)
    return project


def _with_counts(session: Session, projects: Sequence[Project]) -> list[ProjectWithCounts]:
    ids = [p.id for p in projects]
    if not ids:
        return []
    kbs = dict(
        session.execute(
            select(KnowledgeBase.project_id, func.count())
            .where(KnowledgeBase.project_id.in_(ids))
            .group_by(KnowledgeBase.project_id)
        ).all()
    )
    meetings = dict(
        session.execute(
            select(Meeting.project_id, func.count())
            .where(Meeting.project_id.in_(ids))
            .group_by(Meeting.project_id)
        ).all()
    )
    return [
        ProjectWithCounts(p, int(kbs.get(p.id, 0)), int(meetings.get(p.id, 0))) for p in projects
    ]


def create_project(
    db: Database,
    *,
    organization_id: str,
    name: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> ProjectWithCounts:
    """A new, empty project."""
    with db.session() as session:
        project = Project(
            organization_id=organization_id,
            name=name,
            description=description,
            metadata_=checked_metadata(metadata or {}),
            created_at=utcnow(),
        )
        session.add(project)
        session.flush()
    return ProjectWithCounts(project)


def list_projects(
    db: Database, *, organization_id: str, scope: Scope, limit: int, cursor: str | None
) -> Page[ProjectWithCounts]:
    """The organization's projects inside the key's scope, oldest first."""
    with db.session() as session:
        page = paginate(
            session,
            select(Project).where(
                Project.organization_id == organization_id, project_condition(scope)
            ),
            created_at=Project.created_at,
            row_id=Project.id,
            limit=limit,
            cursor=cursor,
        )
        return Page(_with_counts(session, page.items), page.next_cursor)


def get_project(db: Database, *, organization_id: str, project_id: str) -> ProjectWithCounts:
    """One of the organization's projects with its counts (else `NotFound`)."""
    with db.session() as session:
        project = load_project(session, organization_id=organization_id, project_id=project_id)
        return _with_counts(session, [project])[0]


def list_project_content(
    db: Database, *, organization_id: str, project_id: str, limit: int, cursor: str | None
) -> Page[ContentItem]:
    """The project's knowledge bases and their documents, one keyset over (created_at, id).

    Both tables are paged with the same cursor and merged, so a page never repeats or
    skips an item even while knowledge bases and documents are added.
    """
    with db.session() as session:
        load_project(session, organization_id=organization_id, project_id=project_id)
        of_project = (
            KnowledgeBase.organization_id == organization_id,
            KnowledgeBase.project_id == project_id,
        )
        kbs = session.scalars(
            after_cursor(
                select(KnowledgeBase).where(*of_project),
                created_at=KnowledgeBase.created_at,
                row_id=KnowledgeBase.id,
                limit=limit,
                cursor=cursor,
            )
        ).all()
        docs = session.execute(
            after_cursor(
                select(Document, KnowledgeBase)
                .join(KnowledgeBase, KnowledgeBase.id == Document.knowledge_base_id)
                .where(*of_project),
                created_at=Document.created_at,
                row_id=Document.id,
                limit=limit,
                cursor=cursor,
            )
        ).all()
        items = [
            ContentItem(
                "knowledge_base",
                c.knowledge_base.id,
                c.knowledge_base.id,
                c.knowledge_base.created_at,
                knowledge_base=c,
            )
            for c in with_counts(session, kbs)
        ]
    items += [
        ContentItem("document", doc.id, kb.id, doc.created_at, document=doc) for doc, kb in docs
    ]
    items.sort(key=lambda item: (item.created_at, item.id))
    return page_of(items, limit)
