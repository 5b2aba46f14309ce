"""Meeting transcripts: segments laid out as one extracted text, with exact offsets.

`layout(segments)` renders finalized segments (in sequence order) as the meeting's
extracted text, one paragraph per speaker turn (a run of consecutive segments by one
speaker), paragraphs separated by a blank line:

    Ines Carvalho: Morning everyone. Any blockers?

    Tomas Eriksen: I need the staging cluster resized.

Each `SegmentSpan` says where a segment's own text sits in it (the "Speaker: " prefix
belongs to no segment), so a citation's offset maps back to the speaker and timestamp
of the sentence it cites (`segment_at`). The rendering of a segment depends only on it
and on its predecessor's speaker, so a live meeting is laid out incrementally
(`layout(..., start=, previous_speaker=)`) and offsets never change when segments are
appended; a late segment only shifts the segments after it. Chunking by speaker turns
is `ingest.transcript_chunking`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TURN_SEPARATOR = "\n\n"
_SPACE = re.compile(r"\s+")


def normalise_segment_text(text: str) -> str:
    """Whitespace runs become one space (a segment is one utterance, one line)."""
    return _SPACE.sub(" ", text).strip()


def normalise_speaker(speaker: str) -> str:
    return _SPACE.sub(" ", speaker).strip().rstrip(":").strip() or "Unknown speaker"


@dataclass(frozen=True)
class Segment:
    """A finalized utterance; `text` and `speaker` already normalised."""

    sequence: int
    speaker: str
    text: str
    timestamp: float


@dataclass(frozen=True)
class SegmentSpan:
    """Where a segment's text sits in the transcript; `line_start` is its turn's start
    when the segment opens a turn (the "Speaker: " prefix), else its own start."""

    sequence: int
    speaker: str
    timestamp: float
    char_start: int
    char_end: int
    line_start: int

    def to_payload(self) -> dict[str, Any]:
        return {
            "char_start": self.char_start,
            "char_end": self.char_end,
            "speaker": self.speaker,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True)
class Transcript:
    text: str
    spans: list[SegmentSpan]


def render_piece(segment: Segment, previous_speaker: str | None, first: bool) -> tuple[str, int]:
    """The text a segment adds after its predecessor, and where its own text starts in it."""
    if previous_speaker == segment.speaker:
        return " " + segment.text, 1
    head = ("" if first else TURN_SEPARATOR) + segment.speaker + ": "
    return head + segment.text, len(head)


def layout(
    segments: Sequence[Segment], *, start: int = 0, previous_speaker: str | None = None
) -> Transcript:
    """Render `segments` (sequence order) after `start` characters of earlier transcript.

    The returned `text` is only the new part; spans are absolute offsets.
    """
    parts: list[str] = []
    spans: list[SegmentSpan] = []
    offset = start
    for segment in segments:
        piece, lead = render_piece(segment, previous_speaker, first=offset == 0)
        opens_turn = previous_speaker != segment.speaker
        line_start = offset + (len(TURN_SEPARATOR) if opens_turn and offset else 0)
        begin = offset + lead
        spans.append(
            SegmentSpan(
                segment.sequence,
                segment.speaker,
                segment.timestamp,
                begin,
                begin + len(segment.text),
                line_start if opens_turn else begin,
            )
        )
        parts.append(piece)
        offset += len(piece)
        previous_speaker = segment.speaker
    return Transcript("".join(parts), spans)


def segment_at(segments: Sequence[dict[str, Any]], char_start: int) -> dict[str, Any] | None:
    """The segment (payload form) a citation starting at `char_start` belongs to."""
    for segment in segments:
        if int(segment["char_end"]) > char_start:
            return segment
    return segments[-1] if segments else None
