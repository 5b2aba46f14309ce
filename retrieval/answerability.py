"""Whether the retrieved passages answer a question: `found`, `confidence` and why.

One cosine threshold cannot tell "not in the knowledge base" from "asked in other
words": an off-topic question can reach a cosine of 0.27 against a handbook while
"What should I do on my first day?" reaches only 0.14 against the sentence that
answers it ("On day one your buddy walks you through ..."). Two pieces of evidence
together separate them:

- `similarity`: the best passage's cosine similarity to the query;
- `coverage`: the share of the query's content words (`retrieval.answer_types`
  leaves out the words that only shape the question) that occur, stemmed, in the
  best `passages_checked` passages. A question about a "dress code" over a handbook
  that never says "dress" or "code" has little, however close its embedding lands.

`evidence = similarity + lexical_weight * coverage`; the answer is found when the
evidence reaches `min_evidence`. `confidence` is a logistic of the margin
(`evidence - min_evidence`), 0.5 at the threshold. The features, the threshold and
the content words the passages miss are returned with the verdict, so a refusal can
say why in one sentence and a log line can show the decision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.answer_types import shape_words
from retrieval.passages import Passage
from retrieval.sparse import SparseEncoder

_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Answerability:
    found: bool
    confidence: float
    reason: str | None  # one sentence, when not found
    similarity: float
    coverage: float
    evidence: float
    threshold: float
    missing: tuple[str, ...]  # content words that no checked passage contains

    def features(self) -> dict[str, Any]:
        """The decision's inputs and values, for a debug field or a log line."""
        return {
            "similarity": round(self.similarity, 4),
            "coverage": round(self.coverage, 4),
            "evidence": round(self.evidence, 4),
            "threshold": self.threshold,
            "missing_terms": list(self.missing),
        }


class AnswerabilityJudge:
    """Decides from the query and its ranked passages whether they hold an answer."""

    def __init__(
        self,
        sparse_encoder: SparseEncoder,
        *,
        min_evidence: float = 0.5,
        lexical_weight: float = 0.4,
        passages_checked: int = 3,
        slope: float = 12.0,
    ) -> None:
        if passages_checked < 1 or lexical_weight < 0 or slope <= 0:
            raise ValueError("passages_checked, lexical_weight and slope must be positive")
        self._sparse = sparse_encoder
        self.min_evidence = min_evidence
        self.lexical_weight = lexical_weight
        self.passages_checked = passages_checked
        self.slope = slope

    def judge(self, query: str, passages: Sequence[Passage]) -> Answerability:
        if not passages:
            return self._verdict(0.0, 0.0, (), "Nothing in this scope is indexed yet.")
        similarity = max(p.similarity for p in passages)
        words = content_words(query)
        present: set[int] = set()
        for p in passages[: self.passages_checked]:
            present |= set(self._sparse.embed_document(p.text).indices)
        missing, counted = [], 0
        for word in words:
            terms = set(self._sparse.embed_query(word).indices)
            if not terms:
                continue  # a stop word
            counted += 1
            if not terms & present:
                missing.append(word)
        coverage = 1.0 - len(missing) / counted if counted else 0.0
        return self._verdict(similarity, coverage, tuple(missing), None)

    def _verdict(
        self, similarity: float, coverage: float, missing: tuple[str, ...], reason: str | None
    ) -> Answerability:
        evidence = similarity + self.lexical_weight * coverage
        margin = evidence - self.min_evidence
        found = reason is None and margin >= 0
        if not found and reason is None:
            reason = _why(missing)
        confidence = 0.0 if not similarity and not coverage else _logistic(self.slope * margin)
        return Answerability(
            found=found,
            confidence=round(confidence, 4),
            reason=reason,
            similarity=similarity,
            coverage=coverage,
            evidence=evidence,
            threshold=self.min_evidence,
            missing=missing,
        )


def content_words(query: str) -> list[str]:
    """The query's words without those that only say what shape its answer has."""
    words = [w for w in _WORD.findall(query) if w.lower() not in shape_words()]
    return words or _WORD.findall(query)


def _why(missing: tuple[str, ...]) -> str:
    if missing:
        quoted = ", ".join(f'"{w}"' for w in missing[:5])
        return f"The closest passages do not mention {quoted}."
    return "The closest passages are about something else."


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))
