"""Projects: group knowledge bases and meetings; list their content and meeting history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, Cursor, Limit, Reader, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.meetings import MeetingOut
from kb_service.api.schemas.projects import ContentOut, ProjectIn, ProjectOut
from kb_service.services import meetings
from kb_service.services import projects as service

router = APIRouter(prefix="/projects", tags=["projects"], route_class=StrictJsonRoute)


@router.post("", status_code=201, response_model=Envelope[ProjectOut])
def create_project(body: ProjectIn, principal: Writer, db: DB) -> Any:
    """Create a project."""
    project = service.create_project(
        db,
        organization_id=principal.organization_id,
        name=body.name,
        description=body.description,
        metadata=body.metadata,
    )
    return ok(ProjectOut.of(project).model_dump(mode="json"))


@router.get("", response_model=ListEnvelope[ProjectOut])
def list_projects(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """List the organization's projects, oldest first."""
    projects = service.list_projects(
        db,
        organization_id=principal.organization_id,
        scope=principal.scope,
        limit=limit,
        cursor=cursor,
    )
    items = [ProjectOut.of(p).model_dump(mode="json") for p in projects.items]
    return page(items, projects.next_cursor)


@router.get("/{project_id}", response_model=Envelope[ProjectOut])
def get_project(project_id: str, principal: Reader, db: DB) -> Any:
    """Get one project with its knowledge base and meeting counts."""
    project = service.get_project(
        db, organization_id=principal.organization_id, project_id=project_id
    )
    return ok(ProjectOut.of(project).model_dump(mode="json"))


@router.get("/{project_id}/content", response_model=ListEnvelope[ContentOut])
def project_content(
    project_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """The project's knowledge bases and their documents, oldest first."""
    content = service.list_project_content(
        db,
        organization_id=principal.organization_id,
        project_id=project_id,
        limit=limit,
        cursor=cursor,
    )
    items = [ContentOut.of(i).model_dump(mode="json") for i in content.items]
    return page(items, content.next_cursor)


@router.get("/{project_id}/meetings", response_model=ListEnvelope[MeetingOut])
def project_meetings(
    project_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """The project's meeting history, newest first."""
    history = meetings.list_meetings(
        db,
        organization_id=principal.organization_id,
        scope=principal.scope,
        project_id=project_id,
        limit=limit,
        cursor=cursor,
    )
    return page(
        [MeetingOut.of(m).model_dump(mode="json") for m in history.items], history.next_cursor
    )
