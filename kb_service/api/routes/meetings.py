"""Meetings (transcript import, meeting and transcript reads) and live meeting sources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from kb_service.api.deps import (
    DB,
    DEFAULT_LIMIT,
    Admin,
    AppSettings,
    Cursor,
    Limit,
    Reader,
    Writer,
)
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.meetings import (
    MeetingIn,
    MeetingOut,
    MeetingSourceIn,
    MeetingSourceOut,
    TranscriptOut,
)
from kb_service.services import meetings as service
from kb_service.services import transcript_import
from kb_service.services.scopes import check_project
from kb_service.settings import Settings

router = APIRouter(tags=["meetings"], route_class=StrictJsonRoute)


@router.post("/meetings", status_code=201, response_model=Envelope[MeetingOut])
def import_meeting(body: MeetingIn, principal: Writer, db: DB) -> Any:
    """Import a finished meeting's transcript; it is indexed in the background."""
    check_project(principal.scope, body.project_id)
    meeting = service.import_meeting(
        db,
        organization_id=principal.organization_id,
        title=body.title,
        project_id=body.project_id,
        platform=body.platform,
        started_at=body.started_at,
        participants=body.participants,
        segments=body.to_segments(),
    )
    return ok(MeetingOut.of(meeting).model_dump(mode="json"))


@router.post("/meetings/import", status_code=201, response_model=Envelope[MeetingOut])
async def import_transcript_file(
    file: Annotated[UploadFile, File(description=".vtt, .srt, 'Speaker: text' or JSON")],
    principal: Writer,
    db: DB,
    title: Annotated[str | None, Form(min_length=1, max_length=500)] = None,
    project_id: Annotated[str | None, Form(max_length=100)] = None,
    platform: Annotated[str | None, Form(max_length=100)] = None,
) -> Any:
    """Import a transcript file as a finished meeting; it is indexed in the background."""
    check_project(principal.scope, project_id or None)
    content = await file.read()
    meeting = await run_in_threadpool(
        transcript_import.import_transcript_file,
        db,
        organization_id=principal.organization_id,
        filename=file.filename or "transcript",
        content=content,
        title=title,
        project_id=project_id or None,
        platform=platform or None,
    )
    return ok(MeetingOut.of(meeting).model_dump(mode="json"))


@router.get("/meetings", response_model=ListEnvelope[MeetingOut])
def list_meetings(
    principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """The organization's meetings, newest first."""
    history = service.list_meetings(
        db,
        organization_id=principal.organization_id,
        scope=principal.scope,
        project_id=None,
        limit=limit,
        cursor=cursor,
    )
    return page(
        [MeetingOut.of(m).model_dump(mode="json") for m in history.items], history.next_cursor
    )


@router.get("/meetings/{meeting_id}", response_model=Envelope[MeetingOut])
def get_meeting(meeting_id: str, principal: Reader, db: DB) -> Any:
    """Get one meeting: status, segment count, participants."""
    meeting = service.get_meeting(
        db, organization_id=principal.organization_id, meeting_id=meeting_id
    )
    return ok(MeetingOut.of(meeting).model_dump(mode="json"))


@router.get("/meetings/{meeting_id}/transcript", response_model=Envelope[TranscriptOut])
def get_transcript(meeting_id: str, principal: Reader, db: DB) -> Any:
    """The meeting's transcript text (what citations index into) and its segments."""
    transcript = service.get_transcript(
        db, organization_id=principal.organization_id, meeting_id=meeting_id
    )
    return ok(TranscriptOut.of(transcript).model_dump(mode="json"))


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.api.public_url or str(request.base_url)).rstrip("/")


@router.post("/meeting-sources", status_code=201, response_model=Envelope[MeetingSourceOut])
def create_meeting_source(
    body: MeetingSourceIn, request: Request, principal: Admin, db: DB, settings: AppSettings
) -> Any:
    """Register a live meeting source; its signing secret is shown in this response only."""
    source = service.create_source(
        db,
        organization_id=principal.organization_id,
        name=body.name,
        signing_secret=body.signing_secret,
        project_id=body.project_id,
    )
    out = MeetingSourceOut.of(source, _base_url(request, settings), with_secret=True)
    return ok(out.model_dump(mode="json"))


@router.get("/meeting-sources", response_model=ListEnvelope[MeetingSourceOut])
def list_meeting_sources(
    request: Request,
    principal: Admin,
    db: DB,
    settings: AppSettings,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the organization's meeting sources (without their secrets)."""
    sources = service.list_sources(
        db, organization_id=principal.organization_id, limit=limit, cursor=cursor
    )
    base = _base_url(request, settings)
    items = [MeetingSourceOut.of(s, base).model_dump(mode="json") for s in sources.items]
    return page(items, sources.next_cursor)


@router.delete("/meeting-sources/{source_id}", response_model=Envelope[dict[str, Any]])
def delete_meeting_source(source_id: str, principal: Admin, db: DB) -> Any:
    """Delete a meeting source: its callbacks are refused from now on; meetings stay."""
    service.delete_source(db, organization_id=principal.organization_id, source_id=source_id)
    return ok({"id": source_id, "deleted": True})
