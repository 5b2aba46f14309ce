"""Extractive answers with sentence-level citations, and the citation rules they obey.

`ExtractiveAnswerer.answer(query, passages)` needs no LLM. It splits the best retrieved
passages into candidate sentences (`retrieval.answer_sentences`: exact offsets; a
sentence that introduces a list or code block brings the block along) and scores each
by its passage's rank and cosine similarity, times how much of the query's content
terms (BM25, IDF-weighted over the candidates) it covers, times its shape: whether it
holds the kind of answer the question asks for (`retrieval.answer_types`) and the
question's two-word phrases. The best sentence leads; a further sentence follows only
when it scores close to the best and adds a query term or the answer's shape (or
directly follows the best sentence), is not a near-duplicate (overlapping chunks
repeat sentences) and fits the word budget (`max_words`, default 60; the first
sentence always stands). Every sentence is cited `[n]`.

Citation rules, checked by `citation_problems`: every `[n]` in the answer resolves to
`citations[n-1]`, every citation is used, and each citation's `text` is the exact
passage slice `passage.text[char_start - passage.char_start : ...]`, so the document
span `[char_start, char_end)` of the extracted text literally contains it. Bracketed
numbers inside quoted source sentences ("as shown in [3]") are rendered as "(3)" in the
answer so they never read as markers; the citation text stays literal.

Whether the passages answer at all is `retrieval.answerability`'s verdict; a refusal
says so plainly and cites nothing.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest.transcripts import segment_at
from retrieval.answer_sentences import Candidate, candidates, render
from retrieval.answer_types import expected_type, has_answer_type
from retrieval.answerability import Answerability, AnswerabilityJudge, content_words
from retrieval.passages import Passage
from retrieval.sparse import SparseEncoder

MARKER = re.compile(r"\[(\d{1,3})\]")
NOT_FOUND = "I could not find anything in the knowledge base that answers this question."
_SPACE = re.compile(r"\s+")
TYPE_WEIGHT = 1.5
_WORD = re.compile(r"[\w'-]+")


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
    answerability: Answerability | None = None


def refusal(verdict: Answerability) -> Answer:
    """The answer to a question the passages do not answer: no citations."""
    return Answer(NOT_FOUND, [], "extractive", found=False, answerability=verdict)


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


class ExtractiveAnswerer:
    """Leads with the sentence that answers best, then adds only sentences that add to it."""

    def __init__(
        self,
        sparse_encoder: SparseEncoder,
        *,
        judge: AnswerabilityJudge | None = None,
        max_words: int = 60,
        max_sentences: int = 4,
        passages_considered: int = 5,
    ) -> None:
        if max_sentences < 1 or passages_considered < 1 or max_words < 1:
            raise ValueError("max_words, max_sentences and passages_considered must be positive")
        self._sparse = sparse_encoder
        self.judge = judge or AnswerabilityJudge(sparse_encoder)
        self.max_words = max_words
        self.max_sentences = max_sentences
        self.passages_considered = passages_considered

    def answer(
        self, query: str, passages: Sequence[Passage], verdict: Answerability | None = None
    ) -> Answer:
        """The cited answer, or a refusal when `verdict` (judged here if not given) says so."""
        verdict = verdict or self.judge.judge(query, passages)
        if not verdict.found:
            return refusal(verdict)
        considered = list(passages[: self.passages_considered])
        sentences = candidates(considered, self._sparse)
        if not sentences:
            return refusal(verdict)
        query_terms = set(self._sparse.embed_query(_content_words(query)).indices)
        scored = self._score(query, query_terms, sentences, considered)
        chosen = self._select(scored, query_terms)
        citations, parts = [], []
        for index, (sentence, score) in enumerate(chosen, start=1):
            p = sentence.passage
            start, end = p.char_start + sentence.start, p.char_start + sentence.end
            citations.append(Citation(index, p, start, end, sentence.text, score))
            parts.append(f"{render(sentence.text)} [{index}]")
        return Answer(" ".join(parts), citations, "extractive", answerability=verdict)

    def _score(
        self,
        query: str,
        query_terms: set[int],
        sentences: list[Candidate],
        passages: list[Passage],
    ) -> list[_Scored]:
        """Each sentence's score: passage rank and similarity, times query coverage, times shape."""
        kind = expected_type(query)
        pairs = _bigrams(_content_words(query))
        df: dict[int, int] = {}
        for s in sentences:
            for t in s.terms & query_terms:
                df[t] = df.get(t, 0) + 1
        idf = {t: math.log(1 + len(sentences) / df.get(t, 0.5)) for t in query_terms}
        total = sum(idf.values())
        best_similarity = max(max(p.similarity for p in passages), 1e-6)
        coverage = {id(s): _coverage(s, query_terms, idf, total) for s in sentences}
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
            # The answer's shape ("24 hours" for "how long") and the question's phrases
            # ("switch back") tell the answering sentence from one that repeats the topic.
            typed = kind is not None and has_answer_type(s.text, kind)
            phrases = len(pairs & _bigrams(s.text))
            shape = (TYPE_WEIGHT if typed else 1.0) * (1 + 0.2 * min(phrases, 2))
            score = passage_weight * (0.35 + 0.65 * match) * shape
            scored.append(_Scored(s, score, typed))
        scored.sort(key=lambda c: -c.score)
        return scored

    def _select(
        self, scored: list[_Scored], query_terms: set[int]
    ) -> list[tuple[Candidate, float]]:
        """The best sentence, then those that add a query term or the answer's shape."""
        best = scored[0]
        chosen = [(best.sentence, best.score)]
        covered = best.sentence.terms & query_terms
        typed = best.typed
        words = best.sentence.words
        spans = {_span(best.sentence)}
        for c in scored[1:]:
            if len(chosen) >= self.max_sentences:
                break
            # The sentence right after the best one often carries its answer ("I need the
            # cluster resized." "I can resize it this morning."), however it scores.
            follows = _follows(c.sentence, best.sentence) and c.score >= 0.25 * best.score
            adds = bool((c.sentence.terms & query_terms) - covered) or (c.typed and not typed)
            if (
                not (follows or (adds and c.score >= 0.6 * best.score))
                or words + c.sentence.words > self.max_words
                or _span(c.sentence) in spans
                or any(_near_duplicate(c.sentence, s) for s, _ in chosen)
            ):
                continue
            chosen.append((c.sentence, c.score))
            covered |= c.sentence.terms & query_terms
            typed = typed or c.typed
            words += c.sentence.words
            spans.add(_span(c.sentence))
        return chosen


@dataclass(frozen=True)
class _Scored:
    sentence: Candidate
    score: float
    typed: bool  # has the shape of answer the question asks for


def _coverage(s: Candidate, query_terms: set[int], idf: dict[int, float], total: float) -> float:
    """The IDF share of the query's terms in the sentence (half for its heading's)."""
    if not total:
        return 0.0
    own = s.terms & query_terms
    from_heading = (s.heading_terms & query_terms) - own
    return (sum(idf[t] for t in own) + 0.5 * sum(idf[t] for t in from_heading)) / total


def _follows(a: Candidate, b: Candidate) -> bool:
    """Whether `a` is the sentence right after `b` in the same passage."""
    return a.passage is b.passage and a.position == b.position + 1


def _span(s: Candidate) -> tuple[str | None, int]:
    return (s.passage.document_id or s.passage.chunk_id, s.passage.char_start + s.start)


def _content_words(query: str) -> str:
    return " ".join(content_words(query))


def _bigrams(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs, each word cut to 4 letters ("carry over" = "carried over")."""
    words = [w.lower()[:4] for w in _WORD.findall(text)]
    return set(itertools.pairwise(words))


def _near_duplicate(a: Candidate, b: Candidate) -> bool:
    """The same sentence (or one contained in the other) from overlapping chunks."""
    if not a.terms or not b.terms:
        return a.text == b.text
    return len(a.terms & b.terms) / min(len(a.terms), len(b.terms)) >= 0.8
