"""Transcript files (WebVTT, SubRip, "Speaker: text") read into timed utterances.

`read_transcript(filename, text)` returns `Utterance`s (speaker, text, seconds from the
start) in file order; the meeting import stores them as segments, so cue times
become segment timestamps and citations name the speaker and time. Which reader:

| file                                        | reader                                     |
|---------------------------------------------|--------------------------------------------|
| starts with `WEBVTT`, or named `.vtt`       | WebVTT cues                                |
| named `.srt`, or numbered cues with `-->`   | SubRip cues                                |
| anything else                               | one utterance per `Speaker: text` line     |

The speaker of a cue is its voice tag (`<v Ines Carvalho>...</v>`, as Teams and most
tools write it), else a `Name: ` prefix of its text (Zoom), else the previous cue's
speaker; other tags (`<c>`, `<b>`, inline times) are dropped. A plain transcript's
line may start with a time (`[00:01:02]`, `00:01:02`, `(1:02)`); a line without a
`Speaker:` continues the previous utterance; an untimed line takes the time of the
last timed one (0 before any).

Failure modes: `CorruptDocument` when a cue's time is unreadable, and
`EmptyDocument` when nothing in the file is an utterance.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import PurePath

from ingest.errors import CorruptDocument, EmptyDocument

TRANSCRIPT_EXTENSIONS = (".vtt", ".srt")
UNKNOWN_SPEAKER = "Unknown speaker"

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_VTT_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")
_TIME = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:[.,](\d{1,3}))?$")
_CUE_TIMES = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")
_PREFIX = re.compile(r"^\s*([^:\n]{1,60}?):\s+(\S.*)$")
_LEADING_TIME = re.compile(
    r"^\s*[\[(]?((?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)[\])]?\s*[-\u2013]?\s*"
)


@dataclass(frozen=True)
class Utterance:
    speaker: str
    text: str
    timestamp: float


def parse_timestamp(value: str) -> float:
    """`HH:MM:SS(.mmm)`, `MM:SS(.mmm)` (comma or point) to seconds; ValueError otherwise."""
    match = _TIME.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a time of the form HH:MM:SS(.mmm)")
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (int(fraction.ljust(3, "0")) / 1000 if fraction else 0.0)


def is_transcript_name(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in TRANSCRIPT_EXTENSIONS


def read_transcript(filename: str, text: str) -> list[Utterance]:
    """Utterances of a transcript file (see the module's table)."""
    name = PurePath(filename).name or "The transcript"
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)  # what decoding let through (U+0000 included)
    suffix = PurePath(filename).suffix.lower()
    if text.startswith("WEBVTT") or suffix == ".vtt":
        utterances = _cues(name, text, webvtt=True)
    elif suffix == ".srt" or re.match(r"\s*\d+\n[^\n]*-->", text):
        utterances = _cues(name, text, webvtt=False)
    else:
        utterances = _plain(text)
    if not utterances:
        raise EmptyDocument(f"{name} holds no transcript lines.")
    return utterances


def _cue_time(name: str, value: str, block: str) -> float:
    try:
        return parse_timestamp(value)
    except ValueError:
        first = block.split("\n", 1)[0]
        raise CorruptDocument(
            f"{name}: the cue time {value!r} is unreadable ({first!r})."
        ) from None


def _cues(name: str, text: str, *, webvtt: bool) -> list[Utterance]:
    utterances: list[Utterance] = []
    speaker = UNKNOWN_SPEAKER
    for block in re.split(r"\n[ \t]*\n", text):
        lines = [line for line in block.split("\n") if line.strip()]
        if webvtt and lines and lines[0].startswith(_VTT_BLOCKS):
            continue  # the header, comments, styles and regions
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # text outside any cue
        match = _CUE_TIMES.match(lines[timing])
        if match is None:
            raise CorruptDocument(f"{name}: the cue timing {lines[timing]!r} is unreadable.")
        start = _cue_time(name, match.group(1), block)
        raw = " ".join(lines[timing + 1 :])
        voice = _VOICE.search(raw) if webvtt else None
        body = " ".join(html.unescape(_TAG.sub(" ", raw)).split())
        if voice is not None:
            speaker = " ".join(voice.group(1).split())
        elif prefixed := _PREFIX.match(body):
            speaker, body = prefixed.group(1).strip(), prefixed.group(2)
        if body:
            utterances.append(Utterance(speaker, body, start))
    return utterances


def _plain(text: str) -> list[Utterance]:
    utterances: list[Utterance] = []
    timestamp = 0.0
    for line in text.split("\n"):
        if not line.strip():
            continue
        if timed := _LEADING_TIME.match(line):
            try:
                timestamp = parse_timestamp(timed.group(1))
                line = line[timed.end() :]
            except ValueError:  # "75:99" is not a time: the line is text
                pass
        prefixed = _PREFIX.match(line)
        if prefixed is None and utterances:
            last = utterances.pop()
            utterances.append(
                Utterance(last.speaker, f"{last.text} {line.strip()}", last.timestamp)
            )
            continue
        speaker, body = (
            (prefixed.group(1).strip(), prefixed.group(2)) if prefixed else (UNKNOWN_SPEAKER, line)
        )
        utterances.append(Utterance(speaker, " ".join(body.split()), timestamp))
    return utterances
