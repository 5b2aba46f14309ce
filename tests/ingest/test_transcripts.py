"""Transcript layout: exact offsets, incremental layout, citations to segments (property tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.transcripts import Segment, layout, segment_at
from tests.ingest.transcript_support import segments_strategy, standup


@settings(max_examples=40, deadline=None)
@given(segments=segments_strategy, cut=st.integers(min_value=0, max_value=40))
def test_incremental_layout_equals_full_layout(segments: list[Segment], cut: int) -> None:
    cut = min(cut, len(segments))
    head = layout(segments[:cut])
    previous = segments[cut - 1].speaker if cut else None
    tail = layout(segments[cut:], start=len(head.text), previous_speaker=previous)
    full = layout(segments)
    assert head.text + tail.text == full.text and head.spans + tail.spans == full.spans


def test_segment_at_maps_citations_to_their_sentence() -> None:
    segments = standup()
    transcript = layout(segments)
    payload = [s.to_payload() for s in transcript.spans]
    for span in transcript.spans:
        assert segment_at(payload, span.char_start)["timestamp"] == span.timestamp  # type: ignore[index]
        # A citation starting at the "Speaker: " prefix belongs to the turn's first segment.
        assert segment_at(payload, span.line_start)["speaker"] == span.speaker  # type: ignore[index]
    assert segment_at([], 3) is None
