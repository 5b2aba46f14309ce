"""Request and response bodies of the meeting, meeting-source and callback routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ingest.transcript_files import parse_timestamp
from kb_service.db.meetings import Meeting, MeetingSource
from kb_service.services import meetings as service
from kb_service.services.meetings import MAX_SEGMENT_CHARS, MeetingTranscript, meeting_view
from kb_service.statuses import MeetingStatus


def _seconds(value: object) -> object:
    """An `HH:MM:SS(.mmm)` string becomes seconds; anything else is validated as a float."""
    return parse_timestamp(value) if isinstance(value, str) else value


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str = Field(min_length=1, max_length=200)
    text: str = Field(description=f"at most {MAX_SEGMENT_CHARS} characters")
    timestamp: Annotated[float, BeforeValidator(_seconds)] = Field(
        ge=0,
        allow_inf_nan=False,
        description="seconds from the start of the meeting, or 'HH:MM:SS(.mmm)'",
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

    def to_segments(self) -> list[service.SegmentIn]:
        return [service.SegmentIn(s.speaker, s.text, s.timestamp) for s in self.segments]


class MeetingOut(BaseModel):
    id: str
    title: str
    project_id: str | None
    source_id: str | None
    external_id: str | None
    platform: str | None
    status: MeetingStatus
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
        return cls(**meeting_view(meeting))


class TranscriptSegmentOut(BaseModel):
    sequence: int
    speaker: str
    timestamp: float
    char_start: int
    char_end: int
    text: str


class TranscriptOut(BaseModel):
    meeting_id: str
    status: MeetingStatus
    text: str = Field(description="the extracted text citation offsets index into")
    segments: list[TranscriptSegmentOut]

    @classmethod
    def of(cls, meeting: MeetingTranscript) -> TranscriptOut:
        text = meeting.transcript.text
        return cls(
            meeting_id=meeting.meeting_id,
            status=meeting.status,
            text=text,
            segments=[
                TranscriptSegmentOut(
                    sequence=s.sequence,
                    speaker=s.speaker,
                    timestamp=s.timestamp,
                    char_start=s.char_start,
                    char_end=s.char_end,
                    text=text[s.char_start : s.char_end],
                )
                for s in meeting.transcript.spans
            ],
        )


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


class CallbackOut(BaseModel):
    result: Literal["accepted", "duplicate", "ignored"]
    meeting_id: str | None
    reason: str | None
