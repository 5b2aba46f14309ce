"""Speaker-turn chunking of transcripts: offsets, budgets, turns (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.tokens import load_encoding
from ingest.transcript_chunking import TranscriptChunker
from ingest.transcripts import Segment, layout
from ingest.window import ModelWindow
from retrieval.embedding import Embedder
from tests.ingest.transcript_support import segments_strategy, standup

ENCODING = load_encoding()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments=segments_strategy, max_tokens=st.integers(min_value=16, max_value=200))
def test_chunks_are_exact_spans_within_budget_covering_every_segment(
    segments: list[Segment], max_tokens: int
) -> None:
    transcript = layout(segments)
    text = transcript.text
    for span, segment in zip(transcript.spans, segments, strict=True):
        assert text[span.char_start : span.char_end] == segment.text
    chunks = TranscriptChunker(max_tokens, ENCODING).run(text, transcript.spans)
    covered = set()
    previous_end = 0
    for n, chunk in enumerate(chunks):
        assert chunk.ordinal == n
        assert chunk.text == text[chunk.char_start : chunk.char_end]
        assert chunk.char_start >= previous_end  # ordered, never overlapping
        previous_end = chunk.char_end
        assert len(ENCODING.encode_ordinary(chunk.draft().embedding_text)) <= max_tokens
        assert chunk.segments and chunk.speakers == list(
            dict.fromkeys(s.speaker for s in chunk.segments)
        )
        assert chunk.first_timestamp <= chunk.last_timestamp
        if chunk.section:  # starts inside a turn: the speaker travels with it
            assert chunk.section == (chunk.segments[0].speaker,)
        covered.update(range(chunk.char_start, chunk.char_end))
    for span in transcript.spans:
        own = text[span.char_start : span.char_end]
        assert all(span.char_start + i in covered for i, ch in enumerate(own) if not ch.isspace())


def test_turns_that_fit_are_never_split_and_short_turns_merge() -> None:
    segments = standup()
    transcript = layout(segments)
    chunks = TranscriptChunker(60, ENCODING).run(transcript.text, transcript.spans)
    turns = transcript.text.split("\n\n")
    starts = [transcript.text.index(t) for t in turns]
    for turn, start in zip(turns, starts, strict=True):
        if len(ENCODING.encode_ordinary(turn)) <= 60:
            holders = [
                c for c in chunks if c.char_start <= start and start + len(turn) <= c.char_end
            ]
            assert len(holders) == 1, turn
    assert any(len(c.speakers) > 1 for c in chunks)  # short adjacent turns merged
    assert len(chunks) < len(turns)
    first = chunks[0]
    assert first.text.startswith("Ines Carvalho: Morning everyone") and first.section == ()


def test_long_turn_splits_at_sentences() -> None:
    sentences = [f"Point number {n} is about the quarterly billing migration." for n in range(30)]
    segments = [Segment(0, "Ines", " ".join(sentences), 1.0), Segment(1, "Tomas", "Agreed.", 9.0)]
    transcript = layout(segments)
    chunks = TranscriptChunker(50, ENCODING).run(transcript.text, transcript.spans)
    assert len(chunks) > 2
    for chunk in chunks[:-1]:
        assert chunk.text.endswith("migration."), chunk.text  # whole sentences only
    assert all(c.section == ("Ines",) for c in chunks[1:-1])


def test_model_window_is_respected(embedder: Embedder) -> None:
    window = ModelWindow(limit=embedder.max_tokens, count=embedder.count_tokens)
    dense = " ".join(f"ID-{n:05d}-ÅØ" for n in range(400))
    segments = [Segment(0, "Bot", dense, 0.0)]
    transcript = layout(segments)
    chunker = TranscriptChunker(198, ENCODING, window)
    for chunk in chunker.run(transcript.text, transcript.spans):
        assert embedder.count_tokens(chunk.draft().embedding_text) <= window.limit
    for start, end in chunker.pieces(dense, "Bot"):
        assert embedder.count_tokens("Bot\n" + dense[start:end]) <= window.limit


def test_impossible_budgets_fail_early(embedder: Embedder) -> None:
    with pytest.raises(ValueError):
        TranscriptChunker(8, ENCODING)
    window = ModelWindow(limit=embedder.max_tokens, count=embedder.count_tokens)
    with pytest.raises(ValueError):
        TranscriptChunker(4000, ENCODING, window)
