"""Extractive answers with sentence-level citations, and the citation rules they obey.

`ExtractiveAnswerer.answer(query, passages)` needs no LLM. It splits the best retrieved
passages into sentences (the ingest sentence splitter, so offsets are exact), scores
each by the passage's rank and cosine similarity times how much of the query's
(locally IDF-weighted) BM25 terms it covers, drops near-duplicates (overlapping chunks
repeat sentences), keeps the best few, most relevant first, and cites every one `[n]`.

Citation rules, checked by `citation_problems`: every `[n]` in the answer resolves to
`citations[n-1]`, every citation is used, and each citation's `text` is the exact
passage slice `passage.text[char_start - passage.char_start : ...]`, so the document
span `[char_start, char_end)` of the extracted text literally contains it. Bracketed
numbers inside quoted source sentences ("as shown in [3]") are rendered as "(3)" in the
answer so they never read as markers; the citation text stays literal.

When the best passage's cosine similarity is under `min_similarity` (calibrated on the
sample documents and SciFact; see `benchmarks/scifact_eval.py --calibrate`), the answer
says so plainly and cites nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.sentences import line_spans, sentence_spans
from ingest.transcripts import segment_at
from retrieval.sparse import SparseEncoder

MARKER = re.compile(r"\[(\d{1,3})\]")
NOT_FOUND = "I could not find anything in the knowledge base that answers this question."
_SPACE = re.compile(r"\s+")
_LONG_SENTENCE = 400
_MIN_WORDS = 3


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with everything a citation needs (offsets into the source text)."""

    chunk_id: str
    document_id: str | None
    knowledge_base_id: str | None
    title: str
    source: str
    page_number: int | None
    char_start: int
    char_end: int
    text: str
    score: float
    similarity: float
    extra: dict[str, Any] = field(default_factory=dict)  # meeting_id, speaker, timestamp


@dataclass(frozen=True)
class Citation:
    index: int
    passage: Passage
    char_start: int
    char_end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        extra = dict(p.extra)
        segments = extra.pop("segments", None)
        if segments:  # a meeting cites the speaker and timestamp of its sentence
            cited = segment_at(segments, self.char_start)
            if cited is not None:
                extra["speaker"], extra["timestamp"] = cited["speaker"], cited["timestamp"]
        return {
            "index": self.index,
            "chunk_id": p.chunk_id,
            "document_id": p.document_id,
            "knowledge_base_id": p.knowledge_base_id,
            "title": p.title,
            "source": p.source,
            "page_number": p.page_number,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "text": self.text,
            "score": round(self.score, 6),
            **extra,
        }


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    answerer: str  # "extractive" | "generative"
    found: bool = True


def passage_citation(index: int, passage: Passage) -> Citation:
    """A citation of a whole passage (what the generative answerer cites)."""
    return Citation(
        index, passage, passage.char_start, passage.char_end, passage.text, passage.score
    )


def neutralise_markers(text: str) -> str:
    """Source text for display inside an answer: whitespace collapsed, `[3]` → `(3)`."""
    return MARKER.sub(r"(\1)", _SPACE.sub(" ", text).strip())


def citation_problems(answer: Answer, *, every_sentence_cited: bool = False) -> list[str]:
    """Violations of the citation rules (empty when the answer is sound)."""
    problems = []
    used = {int(n) for n in MARKER.findall(answer.text)}
    numbers = [c.index for c in answer.citations]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"citations are not numbered 1..n: {numbers}")
    if dangling := used - set(numbers):
        problems.append(f"markers without a citation: {sorted(dangling)}")
    if unused := set(numbers) - used:
        problems.append(f"citations never referenced: {sorted(unused)}")
    for c in answer.citations:
        offset = c.char_start - c.passage.char_start
        if c.passage.text[offset : offset + c.char_end - c.char_start] != c.text:
            problems.append(f"citation [{c.index}] text is not its span")
    if every_sentence_cited and answer.citations:
        pieces = MARKER.split(answer.text)[::2]  # the text between markers
        if pieces[-1].strip():
            problems.append(f"uncited text after the last marker: {pieces[-1].strip()!r}")
        if any(not piece.strip() for piece in pieces[:-1]):
            problems.append("a marker cites no sentence")
    return problems


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    start: int  # offsets within passage.text
    end: int
    terms: frozenset[int]
    rank: int
    position: int  # index of the sentence within its passage


class ExtractiveAnswerer:
    """Selects, orders and cites the sentences of the retrieved passages that answer best."""

    def __init__(
        self,
        sparse_encoder: SparseEncoder,
        *,
        min_similarity: float = 0.25,
        max_sentences: int = 4,
        max_chars: int = 900,
        passages_considered: int = 5,
    ) -> None:
        if max_sentences < 1 or passages_considered < 1:
            raise ValueError("max_sentences and passages_considered must be positive")
        self._sparse = sparse_encoder
        self.min_similarity = min_similarity
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.passages_considered = passages_considered

    def answer(self, query: str, passages: Sequence[Passage]) -> Answer:
        if not passages or max(p.similarity for p in passages) < self.min_similarity:
            return Answer(NOT_FOUND, [], "extractive", found=False)
        considered = list(passages[: self.passages_considered])
        sentences = self._sentences(considered)
        if not sentences:
            return Answer(NOT_FOUND, [], "extractive", found=False)
        scored = self._score(query, sentences, considered)
        chosen = self._select(scored)
        citations, parts = [], []
        for index, (sentence, score) in enumerate(chosen, start=1):
            p = sentence.passage
            citations.append(
                Citation(
                    index,
                    p,
                    p.char_start + sentence.start,
                    p.char_start + sentence.end,
                    p.text[sentence.start : sentence.end],
                    score,
                )
            )
            parts.append(f"{neutralise_markers(p.text[sentence.start : sentence.end])} [{index}]")
        return Answer(" ".join(parts), citations, "extractive")

    def _sentences(self, passages: list[Passage]) -> list[_Sentence]:
        result = []
        for rank, passage in enumerate(passages):
            text = passage.text
            spans = []
            for start, end in sentence_spans(text, 0, len(text)):
                if end - start > _LONG_SENTENCE:
                    spans.extend(line_spans(text, start, end))
                else:
                    spans.append((start, end))
            for position, (s, e) in enumerate(spans):
                piece = text[s:e]
                if _is_heading(piece):
                    continue
                if position == 0 and piece[0].islower():
                    continue  # the chunk starts mid-sentence (overlap): not a whole sentence
                if position == len(spans) - 1 and position > 0 and not _ends_complete(piece):
                    continue  # the chunk ends mid-sentence
                terms = frozenset(self._sparse.embed_document(piece).indices)
                result.append(_Sentence(passage, s, e, terms, rank, position))
        return result

    def _score(
        self, query: str, sentences: list[_Sentence], passages: list[Passage]
    ) -> list[tuple[_Sentence, float]]:
        query_terms = set(self._sparse.embed_query(query).indices)
        df: dict[int, int] = {}
        for s in sentences:
            for t in s.terms & query_terms:
                df[t] = df.get(t, 0) + 1
        idf = {t: math.log(1 + len(sentences) / df.get(t, 0.5)) for t in query_terms}
        total = sum(idf.values())
        best_similarity = max(max(p.similarity for p in passages), 1e-6)
        coverage = {
            id(s): sum(idf[t] for t in s.terms & query_terms) / total if total else 0.0
            for s in sentences
        }
        following = {(id(s.passage), s.position + 1): coverage[id(s)] for s in sentences}
        scored = []
        for s in sentences:
            # A sentence right after a matching one often carries the answer ("..., so
            # switch back within 24 hours"): it inherits half of its predecessor's match.
            inherited = 0.5 * following.get((id(s.passage), s.position), 0.0)
            match = max(coverage[id(s)], inherited)
            passage_weight = (0.5 + 0.5 * max(s.passage.similarity, 0.0) / best_similarity) / (
                1 + 0.25 * s.rank
            )
            scored.append((s, passage_weight * (0.35 + 0.65 * match)))
        scored.sort(key=lambda pair: -pair[1])
        return scored

    def _select(self, scored: list[tuple[_Sentence, float]]) -> list[tuple[_Sentence, float]]:
        best = scored[0][1]
        chosen: list[tuple[_Sentence, float]] = []
        seen_spans: set[tuple[str | None, int]] = set()
        chars = 0
        for sentence, score in scored:
            if len(chosen) >= self.max_sentences or (chosen and score < 0.6 * best):
                break
            p = sentence.passage
            span = (p.document_id or p.chunk_id, p.char_start + sentence.start)
            text = p.text[sentence.start : sentence.end]
            if span in seen_spans or any(_near_duplicate(sentence, c) for c, _ in chosen):
                continue
            if chosen and chars + len(text) > self.max_chars:
                continue
            chosen.append((sentence, score))
            seen_spans.add(span)
            chars += len(text)
        return chosen


def _near_duplicate(a: _Sentence, b: _Sentence) -> bool:
    """The same sentence (or one contained in the other) from overlapping chunks."""
    if not a.terms or not b.terms:
        return a.passage.text[a.start : a.end] == b.passage.text[b.start : b.end]
    return len(a.terms & b.terms) / min(len(a.terms), len(b.terms)) >= 0.8


def _is_heading(piece: str) -> bool:
    """Headings and labels are not answers: Markdown `#` lines, short unpunctuated lines."""
    if piece.lstrip().startswith("#"):
        return True
    words = piece.split()
    return len(words) < _MIN_WORDS or (len(words) <= 8 and not _ends_complete(piece))


def _ends_complete(piece: str) -> bool:
    closers = "\"')]*_`\u201d\u2019"  # quotes, brackets and Markdown emphasis
    return piece.rstrip(closers).endswith((".", "!", "?", ":", "\u2026", "\u3002"))
