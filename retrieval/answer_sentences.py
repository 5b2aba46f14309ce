"""The candidate sentences of retrieved passages, as the extractive answerer sees them.

Sentences come from the ingest sentence splitter, so their offsets are exact. Headings,
labels and the partial sentences at a chunk's overlapping edges are not candidates. A
sentence that introduces a block ("... ask questions later:" followed by a command, a
list or a code block) is one candidate together with that block: the span, and so the
citation, covers both, and `render` keeps the block's lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.sentences import line_spans, sentence_spans
from retrieval.passages import Passage
from retrieval.sparse import SparseEncoder

_LONG_SENTENCE = 400
_MIN_WORDS = 3
_LIST_ITEM = re.compile(r"\s*(?:[-*\u2022]|\d{1,3}[.)])\s")
_SPACE = re.compile(r"[ \t\r\f\v]+|\n(?!\n)")
_MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    start: int  # offsets within passage.text
    end: int
    terms: frozenset[int]
    heading_terms: frozenset[int]  # of the heading the sentence stands under, if any
    rank: int  # the passage's rank
    position: int  # index of the sentence among its passage's sentences and headings

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def words(self) -> int:
        return len(self.text.split())


def candidates(passages: Sequence[Passage], sparse: SparseEncoder) -> list[Candidate]:
    """Every answerable sentence (with the block it introduces) of `passages`, in order."""
    result = []
    for rank, passage in enumerate(passages):
        text = passage.text
        spans = _spans(text)
        covered_to = 0
        heading: frozenset[int] = frozenset()
        for index, (s, e) in enumerate(spans):
            if s < covered_to:
                continue  # inside the block that the previous sentence introduced
            piece = text[s:e]
            if _is_heading(piece):
                heading = frozenset(sparse.embed_document(piece).indices)
                continue
            if index == 0 and piece[0].islower():
                continue  # the chunk starts mid-sentence (overlap): not a whole sentence
            if piece.rstrip().endswith(":") and index + 1 < len(spans):
                e = covered_to = _block_end(text, e)
                piece = text[s:e]
            elif index == len(spans) - 1 and index > 0 and not _ends_complete(piece):
                continue  # the chunk ends mid-sentence
            terms = frozenset(sparse.embed_document(piece).indices)
            result.append(Candidate(passage, s, e, terms, heading, rank, index))
    return result


def render(text: str) -> str:
    """A cited span as answer text: spaces collapsed, block lines kept, `[3]` → `(3)`."""
    paragraphs = [_SPACE.sub(" ", p).strip() for p in text.split("\n\n")]
    return _MARKER.sub(r"(\1)", "\n".join(p for p in paragraphs if p))


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text, 0, len(text)):
        if end - start > _LONG_SENTENCE:
            spans.extend(line_spans(text, start, end))
        else:
            spans.append((start, end))
    return spans


def _block_end(text: str, end: int) -> int:
    """Where the block after an introducing sentence (ending at `end`) ends.

    The block is the next paragraph, and the paragraphs after it while they are list
    items (a list whose items are separated by blank lines).
    """
    at = end
    first = True
    while True:
        start = len(text) - len(text[at:].lstrip())
        if start >= len(text):
            return at
        stop = text.find("\n\n", start)
        stop = len(text) if stop == -1 else stop
        if not first and not _LIST_ITEM.match(text[start:stop]):
            return at
        at, first = len(text[:stop].rstrip()), False


def _is_heading(piece: str) -> bool:
    """Headings and labels are not answers: Markdown `#` lines, short unpunctuated lines."""
    if piece.lstrip().startswith("#"):
        return True
    words = piece.split()
    return len(words) < _MIN_WORDS or (len(words) <= 8 and not _ends_complete(piece))


def _ends_complete(piece: str) -> bool:
    closers = "\"')]*_`\u201d\u2019"  # quotes, brackets and Markdown emphasis
    return piece.rstrip(closers).endswith((".", "!", "?", ":", "\u2026", "\u3002"))
