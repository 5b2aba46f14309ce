"""Speaker-turn chunking of a laid-out meeting transcript (see `ingest.transcripts`).

`TranscriptChunker(max_tokens, encoding, window).run(text, spans)` returns
`TranscriptChunk`s with `text == transcript[char_start:char_end]`, in order, never
overlapping, covering every segment's text:
- a turn that fits the budget is never split; short adjacent turns are merged up to
  the budget;
- a longer turn is split at sentence boundaries (a sentence longer than a chunk is
  split at words, then at cl100k token boundaries, which is unavoidable);
- a chunk that starts inside a turn carries the speaker as its `section`, so the
  embedded text (`embedding_text`) always says who is speaking.
Budgets are checked on the embedded text, in cl100k tokens (`max_tokens`) and, when a
`ModelWindow` is given, in the embedding model's own tokens, so nothing is truncated.
`__init__` raises `ValueError` for an impossible budget; `run` does not fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import tiktoken

from ingest.documents import ChunkDraft
from ingest.sentences import Span, sentence_spans, token_runs, word_spans
from ingest.transcripts import SegmentSpan
from ingest.window import MIN_MAX_TOKENS, ModelWindow, default_chunking_for


@dataclass(frozen=True)
class TranscriptChunk:
    ordinal: int
    text: str
    char_start: int
    char_end: int
    token_count: int
    section: tuple[str, ...]  # (speaker,) when the chunk starts inside a turn
    segments: list[SegmentSpan] = field(default_factory=list)

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(s.speaker for s in self.segments))

    @property
    def first_timestamp(self) -> float:
        return min(s.timestamp for s in self.segments)

    @property
    def last_timestamp(self) -> float:
        return max(s.timestamp for s in self.segments)

    def draft(self) -> ChunkDraft:
        """The chunk as a `ChunkDraft`, the shape every chunk is embedded and indexed in."""
        return ChunkDraft(
            self.ordinal,
            self.text,
            self.char_start,
            self.char_end,
            self.token_count,
            section=self.section,
        )


@dataclass(frozen=True)
class _Unit:
    """A packable piece of one turn: `[start, end)`, `opens` when it starts the turn."""

    start: int
    end: int
    speaker: str
    opens: bool


class TranscriptChunker:
    """Pipeline component: a laid-out transcript in, speaker-turn `TranscriptChunk`s out."""

    def __init__(
        self, max_tokens: int, encoding: tiktoken.Encoding, window: ModelWindow | None = None
    ) -> None:
        if max_tokens < MIN_MAX_TOKENS:
            raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS} (got {max_tokens}).")
        if window is not None and max_tokens > default_chunking_for(window)[0]:
            raise ValueError(
                f"max_tokens={max_tokens} is too large for the embedding model window "
                f"of {window.limit} tokens."
            )
        self.max_tokens = max_tokens
        self.encoding = encoding
        self.window = window

    def run(self, text: str, spans: Sequence[SegmentSpan]) -> list[TranscriptChunk]:
        """Chunk a whole transcript (`text` starts at offset 0; `spans` from `layout`)."""
        units: list[_Unit] = []
        for turn in _turns(spans):
            units.extend(self._turn_units(text, turn))
        return self._pack(text, units, spans)

    def pieces(self, text: str, speaker: str) -> list[Span]:
        """One segment's text split to fit the budget (live indexing): spans into `text`.

        The split depends only on the segment's text and speaker, never on its position
        in the transcript, so re-laying out a segment never changes its pieces.
        """
        return self._split(text, 0, len(text), (speaker,))

    # -- packing ---------------------------------------------------------------------

    def _turn_units(self, text: str, turn: list[SegmentSpan]) -> list[_Unit]:
        start, end, speaker = turn[0].line_start, turn[-1].char_end, turn[0].speaker
        if self._fits(text[start:end], ()):
            return [_Unit(start, end, speaker, True)]
        # Too long: runs of whole sentences; the first keeps the "Speaker: " prefix if
        # it still fits (otherwise the speaker travels in the chunk's `section`).
        units = [
            _Unit(s, e, speaker, False)
            for s, e in self._split(text, turn[0].char_start, end, (speaker,))
        ]
        if self._fits(text[start : units[0].end], ()):
            units[0] = _Unit(start, units[0].end, speaker, True)
        return units

    def _pack(
        self, text: str, units: list[_Unit], spans: Sequence[SegmentSpan]
    ) -> list[TranscriptChunk]:
        chunks: list[TranscriptChunk] = []
        current: list[_Unit] = []

        def flush() -> None:
            if not current:
                return
            start, end = current[0].start, current[-1].end
            section = () if current[0].opens else (current[0].speaker,)
            inside = [s for s in spans if s.char_end > start and s.char_start < end]
            chunks.append(
                TranscriptChunk(
                    len(chunks),
                    text[start:end],
                    start,
                    end,
                    self._tokens(text[start:end], section),
                    section,
                    inside,
                )
            )
            current.clear()

        for unit in units:
            if current:
                section = () if current[0].opens else (current[0].speaker,)
                if self._fits(text[current[0].start : unit.end], section):
                    current.append(unit)
                    continue
                flush()
            current.append(unit)
        flush()
        return chunks

    def _split(self, text: str, start: int, end: int, section: tuple[str, ...]) -> list[Span]:
        """`[start, end)` as greedy runs of whole sentences that fit (words if they must)."""
        atoms: list[Span] = []
        for s, e in sentence_spans(text, start, end):
            if self._fits(text[s:e], section):
                atoms.append((s, e))
                continue
            for ws, we in word_spans(text, s, e):
                if self._fits(text[ws:we], section):
                    atoms.append((ws, we))
                else:
                    atoms.extend(
                        (rs, re_) for rs, re_, _ in token_runs(text, ws, we, self.encoding)
                    )
        runs: list[Span] = []
        for s, e in atoms:
            if runs and self._fits(text[runs[-1][0] : e], section):
                runs[-1] = (runs[-1][0], e)
            else:
                runs.append((s, e))
        return runs

    def _embedding_text(self, text: str, section: tuple[str, ...]) -> str:
        return (" > ".join(section) + "\n" + text) if section else text

    def _tokens(self, text: str, section: tuple[str, ...]) -> int:
        return len(self.encoding.encode_ordinary(self._embedding_text(text, section)))

    def _fits(self, text: str, section: tuple[str, ...]) -> bool:
        if self._tokens(text, section) > self.max_tokens:
            return False
        return self.window is None or (
            self.window.count(self._embedding_text(text, section)) <= self.window.limit
        )


def _turns(spans: Sequence[SegmentSpan]) -> list[list[SegmentSpan]]:
    turns: list[list[SegmentSpan]] = []
    for span in spans:
        if turns and span.line_start == span.char_start and turns[-1][-1].speaker == span.speaker:
            turns[-1].append(span)
        else:
            turns.append([span])
    return turns
