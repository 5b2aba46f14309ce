"""Projects: group knowledge bases and meetings; list their content and meeting history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kb_service.api.deps import DB, Reader, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from kb_service.api.routes.meetings import MeetingOut
from kb_service.api.schemas import DocumentOut, KnowledgeBaseOut
from kb_service.db.content import Project
from kb_service.db.meetings import Meeting
from kb_service.services import knowledge_bases as kb_service
from kb_service.services import projects as service

router = APIRouter(prefix="/projects", tags=["projects"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str | None
    metadata: dict[str, Any]
    knowledge_base_count: int
    meeting_count: int
    created_at: datetime

    @classmethod
    def of(cls, project: Project, counts: tuple[int, int]) -> ProjectOut:
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            metadata=project.metadata_ or {},
            knowledge_base_count=counts[0],
            meeting_count=counts[1],
            created_at=project.created_at,
        )


class ContentOut(BaseModel):
    type: Literal["knowledge_base", "document"]
    id: str
    knowledge_base_id: str
    created_at: datetime
    knowledge_base: KnowledgeBaseOut | None = None
    document: DocumentOut | None = None


@router.post("", status_code=201, response_model=Envelope[ProjectOut])
def create_project(body: ProjectIn, principal: Writer, db: DB) -> Any:
    """Create a project."""
    with db.session() as session:
        project = service.create_project(
            session,
            organization_id=principal.organization_id,
            name=body.name,
            description=body.description,
            metadata=body.metadata,
        )
        return ok(ProjectOut.of(project, (0, 0)).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[ProjectOut])
def list_projects(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Any:
    """List the organization's projects, oldest first."""
    with db.session() as session:
        rows, next_cursor = paginate(
            session,
            select(Project).where(Project.organization_id == principal.organization_id),
            created_at=Project.created_at,
            row_id=Project.id,
            limit=limit,
            cursor=cursor,
        )
        counts = service.project_counts(session, [p.id for p in rows])
        return page(
            [ProjectOut.of(p, counts[p.id]).model_dump(mode="json") for p in rows], next_cursor
        )


@router.get("/{project_id}", response_model=Envelope[ProjectOut])
def get_project(project_id: str, principal: Reader, db: DB) -> Any:
    """Get one project with its knowledge base and meeting counts."""
    with db.session() as session:
        project = service.get_project(
            session, organization_id=principal.organization_id, project_id=project_id
        )
        counts = service.project_counts(session, [project.id])[project.id]
        return ok(ProjectOut.of(project, counts).model_dump(mode="json"))


@router.get("/{project_id}/content", response_model=ListEnvelope[ContentOut])
def project_content(
    project_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """The project's knowledge bases and their documents, oldest first."""
    with db.session() as session:
        items, next_cursor = service.project_content(
            session,
            organization_id=principal.organization_id,
            project_id=project_id,
            limit=limit,
            cursor=cursor,
        )
        kb_ids = [i.knowledge_base.id for i in items if i.type == "knowledge_base"]
        counts = kb_service.kb_counts(session, kb_ids)
        data = [
            ContentOut(
                type=i.type,  # type: ignore[arg-type]
                id=i.id,
                knowledge_base_id=i.knowledge_base.id,
                created_at=i.created_at,
                knowledge_base=(
                    KnowledgeBaseOut.of(i.knowledge_base, counts[i.id])
                    if i.type == "knowledge_base"
                    else None
                ),
                document=DocumentOut.of(i.document) if i.document is not None else None,
            ).model_dump(mode="json")
            for i in items
        ]
        return page(data, next_cursor)


@router.get("/{project_id}/meetings", response_model=ListEnvelope[MeetingOut])
def project_meetings(
    project_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """The project's meeting history, newest first."""
    with db.session() as session:
        service.get_project(
            session, organization_id=principal.organization_id, project_id=project_id
        )
        rows, next_cursor = paginate(
            session,
            select(Meeting).where(
                Meeting.organization_id == principal.organization_id,
                Meeting.project_id == project_id,
            ),
            created_at=Meeting.created_at,
            row_id=Meeting.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        return page([MeetingOut.of(m).model_dump(mode="json") for m in rows], next_cursor)
