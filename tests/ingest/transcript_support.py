"""Transcript fixtures shared by the layout and the chunking tests."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from ingest.transcripts import Segment, normalise_segment_text
from tests.conftest import SAMPLE_DOCS

SPEAKERS = ["Ines Carvalho", "Tomas Eriksen", "Priya", "Marek Nowak"]
SENTENCES = [
    "We shipped the retry logic.",
    "Is the Kafka cluster resized?",
    "Yes!",
    "The acquirer failover runbook needs a section on timeouts and manual overrides.",
    "ok so",
    "Dr. Smith approved approx. three changes, e.g. the pricing one.",
    "Überprüfen wir das morgen früh um neun Uhr.",
    "Long " * 40 + "sentence without an end",
]


def standup() -> list[Segment]:
    raw = json.loads((SAMPLE_DOCS / "standup-2026-03-02.json").read_text())["segments"]
    return [Segment(i, s["speaker"], s["text"], s["timestamp"]) for i, s in enumerate(raw)]


segments_strategy = st.lists(
    st.tuples(
        st.sampled_from(SPEAKERS),
        st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=12),
        st.floats(min_value=0, max_value=7200, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
).map(
    lambda rows: [
        Segment(i, speaker, normalise_segment_text(" ".join(parts)), ts)
        for i, (speaker, parts, ts) in enumerate(rows)
    ]
)
