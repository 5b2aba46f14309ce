"""Live meeting callbacks (Sasha's Meeting Room format): verify, validate, apply.

`handle_callback` checks, in this order, and stores nothing unless all pass:
1. the source exists (else `NotFound`: its URL is wrong or it was deleted);
2. `X-Sasha-Signature: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>`, compared
   in constant time (else `Unauthenticated`);
3. the body is one well-formed event of a known type (else `InvalidInput`);
4. its `timestamp` (Unix seconds, milliseconds above 1e11, or ISO 8601) is within
   `tolerance_seconds` of the server clock, unless that is 0 (else `Unauthenticated`:
   a correctly signed but stale, future or undated event may be a replay);
5. the event fits the meeting's state (else `Conflict`, see below).

Then, in one transaction that first takes the meeting's row lock (an UPDATE, which on
SQLite also takes the database write lock), so concurrent callbacks of a meeting
serialise: a repeated `(meetingId, sequence)` is a no-op (`duplicate`); the first
event of an unknown meetingId opens a meeting in the source's organization and project.
`segment_finalized` stores a pending segment (the indexer makes it searchable within
seconds); `meeting_status` ended|error ends the meeting (the indexer re-chunks and
indexes the whole transcript, then emits `meeting.indexed`); joining|lobby|live|leaving
only update the title/platform if given; `participant_joined/left` update participants;
`caption_partial` is never stored (`ignored`).

After the meeting ended (at sequence E): a segment with a sequence below E arrived late
and is accepted (the meeting is re-indexed); a later segment, or a status that would
reopen the meeting (joining|lobby|live), is a `Conflict` with nothing stored; other
later events (participants, leaving, ended again) are `ignored`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb_service import strict_json
from kb_service.db.base import utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.meetings import Meeting, MeetingCallback, MeetingSource
from kb_service.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from kb_service.observability.meetings import counts_callbacks
from kb_service.services.meetings import (
    SegmentIn,
    add_segments,
    checked_segment,
    meeting_writes,
    merge_participants,
)
from kb_service.statuses import MeetingStatus

MAX_CALLBACK_BYTES = 256 * 1024
SIGNATURE_HEADER = "X-Sasha-Signature"
OPEN_STATUSES = ("joining", "lobby", "live")
END_STATUSES = ("ended", "error")


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal[
        "meeting_status",
        "segment_finalized",
        "caption_partial",
        "participant_joined",
        "participant_left",
    ]
    meetingId: str = Field(min_length=1, max_length=200)  # Sasha's field name
    sequence: int = Field(ge=0, le=2**53)
    timestamp: Annotated[float, Field(allow_inf_nan=False)] | datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class _Status(BaseModel):
    status: Literal["joining", "lobby", "live", "leaving", "ended", "error"]
    title: str | None = Field(default=None, max_length=500)
    platform: str | None = Field(default=None, max_length=100)


class _Segment(BaseModel):
    speaker: str = Field(min_length=1, max_length=200)
    text: str
    timestamp: float = Field(ge=0, allow_inf_nan=False)


class _Participant(BaseModel):
    name: str = Field(min_length=1, max_length=200)


_PAYLOADS: dict[str, type[BaseModel]] = {
    "meeting_status": _Status,
    "segment_finalized": _Segment,
    "participant_joined": _Participant,
    "participant_left": _Participant,
}


@dataclass(frozen=True)
class CallbackOutcome:
    """`accepted` (stored), `duplicate` (seen before) or `ignored` (a documented no-op)."""

    result: str
    meeting_id: str | None = None
    reason: str | None = None


def sign(secret: str, body: bytes) -> str:
    """The `X-Sasha-Signature` header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    expected = sign(secret, body)
    given = (header or "").strip()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Unauthenticated(f"The {SIGNATURE_HEADER} header does not match the body.")


def parse_event(body: bytes) -> tuple[_Event, Any]:
    """The event and its typed payload; `InvalidInput` with field errors when malformed."""
    try:
        raw = strict_json.loads(body)  # InvalidInput naming the field
        event = _Event.model_validate(raw)
        model = _PAYLOADS.get(event.type)
        return event, (model.model_validate(event.payload) if model else None)
    except (ValueError, ValidationError) as exc:
        errors = (
            [
                {
                    "field": ".".join(map(str, e["loc"])) or None,
                    "message": e["msg"],
                    "type": e["type"],
                }
                for e in exc.errors()
            ]
            if isinstance(exc, ValidationError)
            else [{"field": None, "message": "not JSON", "type": "json_invalid"}]
        )
        raise InvalidInput(
            "The callback is not a well-formed meeting event.", errors=errors
        ) from None


@counts_callbacks
def handle_callback(
    db: Database, *, source_id: str, body: bytes, signature: str | None, tolerance_seconds: float
) -> CallbackOutcome:
    """Verify and apply one callback (see the module docstring for every rule)."""
    for _attempt in range(3):
        try:
            # One short transaction: the source's secret is read where the event is applied.
            with meeting_writes(db), db.session() as session:
                source = session.get(MeetingSource, source_id)
                if source is None:
                    raise NotFound.of("meeting source", source_id)
                verify_signature(source.signing_secret, body, signature)
                event, payload = _checked_event(body)
                _check_fresh(event.timestamp, tolerance_seconds)
                if event.type == "caption_partial":
                    return CallbackOutcome("ignored", reason="caption_partial is not indexed")
                return _apply(session, source, event, payload)
        except IntegrityError:
            continue  # a concurrent twin won the race; the next attempt sees its result
    raise Conflict("The event raced with concurrent events of the same meeting; retry it.")


def _checked_event(body: bytes) -> tuple[_Event, Any]:
    event, payload = parse_event(body)
    if event.type == "segment_finalized":
        clean = checked_segment(
            SegmentIn(payload.speaker, payload.text, payload.timestamp), field="payload"
        )
        payload = _Segment(speaker=clean.speaker, text=clean.text, timestamp=clean.timestamp)
    return event, payload


def _check_fresh(timestamp: float | datetime | None, tolerance_seconds: float) -> None:
    if not tolerance_seconds:
        return
    moment = _moment(timestamp)
    if moment is None:
        raise Unauthenticated("The event has no usable timestamp, so its freshness is unknown.")
    skew = abs((utcnow() - moment).total_seconds())
    if skew > tolerance_seconds:
        raise Unauthenticated(
            f"The event's timestamp is {skew:.0f} s away from the server clock, outside "
            f"the {tolerance_seconds:g} s window: a late or replayed event is refused."
        )


def _apply(session: Session, source: MeetingSource, event: _Event, payload: Any) -> CallbackOutcome:
    now = utcnow()
    of_meeting = (Meeting.source_id == source.id, Meeting.external_id == event.meetingId)
    session.execute(update(Meeting).where(*of_meeting).values(updated_at=now))  # the lock
    seen = session.scalars(
        select(MeetingCallback.id).where(
            MeetingCallback.source_id == source.id,
            MeetingCallback.external_meeting_id == event.meetingId,
            MeetingCallback.sequence == event.sequence,
        )
    ).first()
    # Read after the dedupe row: a twin committed since the lock sees its meeting too.
    meeting = session.scalars(select(Meeting).where(*of_meeting)).first()
    if seen is not None:
        return CallbackOutcome("duplicate", meeting.id if meeting else None)
    if meeting is None:
        meeting = _open_meeting(session, source, event, now)
    outcome = _apply_to_meeting(session, meeting, event, payload, now)
    if outcome.result == "accepted":
        session.add(
            MeetingCallback(
                source_id=source.id,
                external_meeting_id=event.meetingId,
                sequence=event.sequence,
                type=event.type,
                received_at=now,
            )
        )
    return outcome


def _open_meeting(session: Session, source: MeetingSource, event: _Event, now: datetime) -> Meeting:
    status = event.payload if event.type == "meeting_status" else {}
    meeting = Meeting(
        organization_id=source.organization_id,
        project_id=source.project_id,
        source_id=source.id,
        external_id=event.meetingId,
        title=str(status.get("title") or f"Meeting {event.meetingId}")[:500],
        platform=(str(status["platform"])[:100] if status.get("platform") else None),
        started_at=_moment(event.timestamp) or now,
        status=MeetingStatus.LIVE,
        participants=[],
        index_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()  # IntegrityError when a concurrent first event opened it: retried
    return meeting


def _apply_to_meeting(
    session: Session, meeting: Meeting, event: _Event, payload: Any, now: datetime
) -> CallbackOutcome:
    ended_at = meeting.ended_sequence
    late = ended_at is not None and event.sequence < ended_at
    if ended_at is not None and not late:
        if event.type == "segment_finalized":
            raise Conflict(
                f"Meeting {event.meetingId} ended at sequence {ended_at}; "
                f"segment {event.sequence} comes after its end and was not stored."
            )
        if event.type == "meeting_status" and payload.status in OPEN_STATUSES:
            raise Conflict(f"Meeting {event.meetingId} has ended and cannot become live again.")
        return CallbackOutcome("ignored", meeting.id, "the meeting has ended")
    if event.type == "segment_finalized":
        segment = SegmentIn(payload.speaker, payload.text, payload.timestamp)
        add_segments(session, meeting.id, [(event.sequence, segment)], now)
        meeting.segment_count = Meeting.segment_count + 1  # type: ignore[assignment]
        meeting.pending_segments = Meeting.pending_segments + 1  # type: ignore[assignment]
        if meeting.participants is None or payload.speaker not in meeting.participants:
            meeting.participants = merge_participants(meeting.participants or [], payload.speaker)
        if late and meeting.status in (MeetingStatus.INDEXED, MeetingStatus.FAILED):
            meeting.status, meeting.index_attempts, meeting.error = MeetingStatus.ENDED, 0, None
    elif event.type in ("participant_joined", "participant_left"):
        meeting.participants = merge_participants(meeting.participants or [], payload.name)
    elif event.type == "meeting_status":
        if payload.title:
            meeting.title = payload.title
        if payload.platform:
            meeting.platform = payload.platform
        if payload.status in END_STATUSES and not late:
            meeting.status = MeetingStatus.ENDED
            meeting.ended_at = _moment(event.timestamp) or now
            meeting.ended_reason = payload.status
            meeting.ended_sequence = event.sequence
            wake_after_commit(session, Wake.MEETINGS)
    return CallbackOutcome("accepted", meeting.id)


def _moment(value: float | datetime | None) -> datetime | None:
    """Event timestamps: ISO 8601, or Unix time in seconds or milliseconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = value / 1000 if value > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
