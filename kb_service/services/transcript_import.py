"""Importing a transcript file as a meeting: WebVTT, SubRip, "Speaker: text", or JSON.

The file is read by `ingest.transcript_files` (cue times become segment timestamps)
or, for a `.json` file, as the body of `POST /meetings` (`{title?, platform?,
started_at?, participants?, segments: [{speaker, text, timestamp}]}`, timestamps in
seconds or `HH:MM:SS(.mmm)`); then it is `meetings.import_meeting`. The form's title
and platform win over the file's; the title falls back to the file's name.

Failure modes: `InvalidInput` (422) for a file that is not a readable transcript, with
a sentence saying why; the limits of `meetings.import_meeting` apply.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import PurePath
from typing import Any

from ingest import formats
from ingest.errors import IngestError
from ingest.transcript_files import is_transcript_name, parse_timestamp, read_transcript
from kb_service import strict_json
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting
from kb_service.errors import InvalidInput
from kb_service.services.meetings import SegmentIn, import_meeting
from kb_service.services.uploads import safe_filename

MAX_TITLE_CHARS = 500
MAX_SPEAKER_CHARS = 200
MAX_PLATFORM_CHARS = 100


def _invalid(message: str, field: str = "file") -> InvalidInput:
    return InvalidInput(
        message, errors=[{"field": field, "message": message, "type": "value_error"}]
    )


def seconds(value: Any, *, field: str) -> float:
    """A segment timestamp: seconds (a number >= 0) or an `HH:MM:SS(.mmm)` string."""
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise _invalid(f"{field}: {exc}", field) from None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise _invalid(f"{field}: a timestamp is seconds (>= 0) or 'HH:MM:SS(.mmm)'", field)


def _text_field(raw: dict[str, Any], key: str, field: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{field}.{key} must be a string", f"{field}.{key}")
    return value


def _json_meeting(content: bytes) -> tuple[dict[str, Any], list[SegmentIn]]:
    value = strict_json.loads(content, field="file")
    if not isinstance(value, dict) or not isinstance(value.get("segments"), list):
        raise _invalid("A JSON transcript is an object with a 'segments' array.")
    segments = []
    for i, raw in enumerate(value["segments"]):
        field = f"file.segments.{i}"
        if not isinstance(raw, dict):
            raise _invalid(f"{field} must be an object", field)
        speaker = _text_field(raw, "speaker", field)
        text = _text_field(raw, "text", field)
        if not speaker or text is None:
            raise _invalid(f"{field} needs a 'speaker' and a 'text'", field)
        segments.append(SegmentIn(speaker, text, seconds(raw.get("timestamp"), field=field)))
    header = {k: value.get(k) for k in ("title", "platform", "started_at", "participants")}
    return header, segments


def _started_at(raw: Any) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid("file.started_at is not an ISO 8601 time", "file.started_at") from None


def is_meeting_file(filename: str, content: bytes) -> bool:
    """A transcript by name (.vtt, .srt), or a JSON object with a `segments` array."""
    if is_transcript_name(filename):
        return True
    if not formats.parses_as_json(content):
        return False
    value = json.loads(content.removeprefix(b"\xef\xbb\xbf"))
    return isinstance(value, dict) and isinstance(value.get("segments"), list)


def read_transcript_file(filename: str, content: bytes) -> tuple[dict[str, Any], list[SegmentIn]]:
    """The file's own header fields (title, platform, ...) and its segments."""
    name = PurePath(filename).name or "transcript"
    if PurePath(name).suffix.lower() == ".json" or formats.parses_as_json(content):
        return _json_meeting(content)
    try:
        text = formats.decode_text(content, name).text
        utterances = read_transcript(name, text)
    except IngestError as exc:
        raise _invalid(exc.message) from None
    return {}, [SegmentIn(u.speaker, u.text, u.timestamp) for u in utterances]


def import_transcript_file(
    db: Database,
    *,
    organization_id: str,
    filename: str,
    content: bytes,
    title: str | None = None,
    project_id: str | None = None,
    platform: str | None = None,
) -> Meeting:
    """A finished meeting from an uploaded transcript file (see the module docstring)."""
    for field, value in (("title", title), ("project_id", project_id), ("platform", platform)):
        if value is not None:
            strict_json.checked_text(value, field=field)
    filename = safe_filename(filename)
    header, segments = read_transcript_file(filename, content)
    for i, segment in enumerate(segments):
        if len(segment.speaker) > MAX_SPEAKER_CHARS:
            field = f"file.segments.{i}.speaker"
            raise _invalid(
                f"{field}: a speaker name has at most {MAX_SPEAKER_CHARS} characters", field
            )
    title = title or _header_text(header, "title") or PurePath(filename).stem or "Transcript"
    participants = header.get("participants") or []
    if not isinstance(participants, list) or not all(
        isinstance(p, str) and len(p) <= MAX_SPEAKER_CHARS for p in participants
    ):
        message = (
            f"file.participants must be a list of names of at most {MAX_SPEAKER_CHARS} characters"
        )
        raise _invalid(message, "file.participants")
    platform = platform or _header_text(header, "platform")
    if platform is not None and len(platform) > MAX_PLATFORM_CHARS:
        message = f"file.platform has more than {MAX_PLATFORM_CHARS} characters"
        raise _invalid(message, "file.platform")
    return import_meeting(
        db,
        organization_id=organization_id,
        title=title[:MAX_TITLE_CHARS],
        segments=segments,
        project_id=project_id,
        platform=platform,
        started_at=_started_at(header.get("started_at")),
        participants=[p for p in participants if p.strip()],
    )


def _header_text(header: dict[str, Any], key: str) -> str | None:
    value = header.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"file.{key} must be a string", f"file.{key}")
    return value.strip() or None if value else None
