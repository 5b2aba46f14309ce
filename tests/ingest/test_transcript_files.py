"""Transcript files read into timed utterances: WebVTT, SubRip, "Speaker: text"."""

from __future__ import annotations

import pytest

from ingest.errors import CorruptDocument, EmptyDocument
from ingest.transcript_files import Utterance, parse_timestamp, read_transcript
from tests.ingest.test_extract import SAMPLES


def read(name: str) -> list[Utterance]:
    return read_transcript(name, (SAMPLES / name).read_text())


def test_webvtt_voice_tags_name_the_speakers() -> None:
    cues = read("retro-2026-02-27.vtt")
    assert [(c.speaker, c.timestamp) for c in cues] == [
        ("Kadri Tamm", 4.12),
        ("Priya Nair", 10.0),
        ("Priya Nair", 17.2),
        ("Kadri Tamm", 24.5),
    ]
    assert cues[3].text.startswith("Agreed, and we move the nightly compaction job to 02:30")


def test_subrip_speaker_prefixes_and_comma_milliseconds() -> None:
    cues = read("design-review-2026-02-24.srt")
    assert [(c.speaker, c.timestamp) for c in cues] == [
        ("Ines Carvalho", 2.0),
        ("Tomas Eriksen", 7.1),
        ("Ines Carvalho", 14.2),
    ]
    assert cues[1].text.startswith("I propose a prefix per region")


def test_plain_transcript_lines_with_times_and_continuations() -> None:
    lines = read("support-sync-2026-02-25.txt")
    assert [(u.speaker, u.timestamp) for u in lines] == [
        ("Hannah Pike", 5.0),
        ("Mateo Rojas", 14.0),
        ("Hannah Pike", 31.0),
    ]
    assert lines[1].text.endswith("went. It moved under Reports, Exports since the redesign.")


def test_zoom_webvtt_without_voice_tags_and_with_markup() -> None:
    zoom = (
        "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.000\nIlse de Vries: <b>Hello</b> &amp; welcome\n\n"
        "2\n00:01:02.000 --> 00:01:04.000 align:start\nstill me, no prefix\n\n"
        "NOTE exported by Zoom\n\n"
        "STYLE\n::cue { color: lime }\n\n"
        "3\n01:00:00.250 --> 01:00:01.000\n<v.loud Ravi  Shah>Bye<00:00:00.500> all</v>\n"
    )
    cues = read_transcript("zoom.vtt", zoom)
    assert cues == [
        Utterance("Ilse de Vries", "Hello & welcome", 1.5),
        Utterance("Ilse de Vries", "still me, no prefix", 62.0),
        Utterance("Ravi Shah", "Bye all", 3600.25),
    ]


def test_plain_lines_without_times_or_speakers() -> None:
    lines = read_transcript("call.txt", "Ana: Hi.\nBen: Hello.\n(1:05) Ana: Later point.\n")
    assert [(u.speaker, u.timestamp) for u in lines] == [("Ana", 0.0), ("Ben", 0.0), ("Ana", 65.0)]
    anonymous = read_transcript("call.txt", "Just one line of notes")
    assert anonymous == [Utterance("Unknown speaker", "Just one line of notes", 0.0)]


def test_timestamps() -> None:
    assert parse_timestamp("01:02:03.5") == 3723.5
    assert parse_timestamp("00:00:01,250") == 1.25
    assert parse_timestamp("2:03") == 123.0
    for bad in ("1:75", "abc", "12", "-0:01", "00:00:01.2345"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)


def test_unreadable_or_empty_transcripts_fail_with_a_sentence() -> None:
    with pytest.raises(CorruptDocument) as caught:
        read_transcript("bad.srt", "1\n00:00:xx,000 --> 00:00:02,000\nAna: hi\n")
    assert "bad.srt" in caught.value.message and "00:00:xx,000" in caught.value.message
    with pytest.raises(EmptyDocument):
        read_transcript("empty.vtt", "WEBVTT\n\nNOTE nothing here\n")
