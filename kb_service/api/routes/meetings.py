"""Meetings (transcript import, meeting and transcript reads) and live meeting sources."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kb_service.api.deps import DB, Admin, Reader, RuntimeDep, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from kb_service.db.meetings import Meeting, MeetingSource
from kb_service.services import meetings as service

router = APIRouter(tags=["meetings"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str = Field(min_length=1, max_length=200)
    text: str = Field(description=f"at most {service.MAX_SEGMENT_CHARS} characters")
    timestamp: float = Field(
        ge=0, allow_inf_nan=False, description="seconds from the start of the meeting"
    )


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    project_id: str | None = None
    platform: str | None = Field(default=None, max_length=100)
    started_at: datetime | None = None
    participants: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=1000
    )
    segments: list[SegmentIn]


class MeetingOut(BaseModel):
    id: str
    title: str
    project_id: str | None
    source_id: str | None
    external_id: str | None
    platform: str | None
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    segment_count: int
    chunk_count: int
    participants: list[str]
    error: str | None
    indexed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingOut:
        return cls(**service.meeting_view(meeting))


class TranscriptSegmentOut(BaseModel):
    sequence: int
    speaker: str
    timestamp: float
    char_start: int
    char_end: int
    text: str


class TranscriptOut(BaseModel):
    meeting_id: str
    status: str
    text: str = Field(description="the extracted text citation offsets index into")
    segments: list[TranscriptSegmentOut]


class MeetingSourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    signing_secret: str | None = Field(
        default=None, min_length=16, max_length=300, description="default: a new `ss_...` secret"
    )
    project_id: str | None = None


class MeetingSourceOut(BaseModel):
    id: str
    name: str
    project_id: str | None
    callback_url: str
    created_at: datetime
    signing_secret: str | None = Field(default=None, description="only in the creation response")

    @classmethod
    def of(
        cls, source: MeetingSource, base_url: str, *, with_secret: bool = False
    ) -> MeetingSourceOut:
        return cls(
            id=source.id,
            name=source.name,
            project_id=source.project_id,
            callback_url=f"{base_url}/api/v1/meetings/events/{source.id}",
            created_at=source.created_at,
            signing_secret=source.signing_secret if with_secret else None,
        )


@router.post("/meetings", status_code=201, response_model=Envelope[MeetingOut])
def import_meeting(body: MeetingIn, principal: Writer, db: DB, runtime: RuntimeDep) -> Any:
    """Import a finished meeting's transcript; it is indexed in the background."""
    with db.session() as session:
        meeting = service.import_meeting(
            session,
            organization_id=principal.organization_id,
            title=body.title,
            project_id=body.project_id,
            platform=body.platform,
            started_at=body.started_at,
            participants=body.participants,
            segments=[service.SegmentIn(s.speaker, s.text, s.timestamp) for s in body.segments],
        )
        out = MeetingOut.of(meeting).model_dump(mode="json")
    runtime.meetings_changed()
    return ok(out)


@router.get("/meetings/{meeting_id}", response_model=Envelope[MeetingOut])
def get_meeting(meeting_id: str, principal: Reader, db: DB) -> Any:
    """Get one meeting: status, segment count, participants."""
    with db.session() as session:
        meeting = service.get_meeting(
            session, organization_id=principal.organization_id, meeting_id=meeting_id
        )
        return ok(MeetingOut.of(meeting).model_dump(mode="json"))


@router.get("/meetings/{meeting_id}/transcript", response_model=Envelope[TranscriptOut])
def get_transcript(meeting_id: str, principal: Reader, db: DB) -> Any:
    """The meeting's transcript text (what citations index into) and its segments."""
    with db.session() as session:
        meeting = service.get_meeting(
            session, organization_id=principal.organization_id, meeting_id=meeting_id
        )
        transcript = service.transcript(
            session, organization_id=principal.organization_id, meeting_id=meeting_id
        )
        status = meeting.status
    text = transcript.text
    segments = [
        TranscriptSegmentOut(
            sequence=s.sequence,
            speaker=s.speaker,
            timestamp=s.timestamp,
            char_start=s.char_start,
            char_end=s.char_end,
            text=text[s.char_start : s.char_end],
        ).model_dump()
        for s in transcript.spans
    ]
    return ok({"meeting_id": meeting_id, "status": status, "text": text, "segments": segments})


def _base_url(request: Request, runtime: RuntimeDep) -> str:
    return (runtime.settings.public_url or str(request.base_url)).rstrip("/")


@router.post("/meeting-sources", status_code=201, response_model=Envelope[MeetingSourceOut])
def create_meeting_source(
    body: MeetingSourceIn, request: Request, principal: Admin, db: DB, runtime: RuntimeDep
) -> Any:
    """Register a live meeting source; its signing secret is shown in this response only."""
    with db.session() as session:
        source = service.create_source(
            session,
            organization_id=principal.organization_id,
            name=body.name,
            signing_secret=body.signing_secret,
            project_id=body.project_id,
        )
        out = MeetingSourceOut.of(source, _base_url(request, runtime), with_secret=True)
        return ok(out.model_dump(mode="json"))


@router.get("/meeting-sources", response_model=ListEnvelope[MeetingSourceOut])
def list_meeting_sources(
    request: Request,
    principal: Admin,
    db: DB,
    runtime: RuntimeDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """List the organization's meeting sources (without their secrets)."""
    with db.session() as session:
        rows, next_cursor = paginate(
            session,
            select(MeetingSource).where(MeetingSource.organization_id == principal.organization_id),
            created_at=MeetingSource.created_at,
            row_id=MeetingSource.id,
            limit=limit,
            cursor=cursor,
        )
        base = _base_url(request, runtime)
        return page(
            [MeetingSourceOut.of(s, base).model_dump(mode="json") for s in rows], next_cursor
        )


@router.delete("/meeting-sources/{source_id}", response_model=Envelope[dict[str, Any]])
def delete_meeting_source(source_id: str, principal: Admin, db: DB) -> Any:
    """Delete a meeting source: its callbacks are refused from now on; meetings stay."""
    with db.session() as session:
        service.delete_source(
            session, organization_id=principal.organization_id, source_id=source_id
        )
    return ok({"id": source_id, "deleted": True})
