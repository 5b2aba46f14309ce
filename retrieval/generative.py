"""Generative answers from an OpenAI-compatible chat-completions endpoint, with checked citations.

Only passages whose cosine similarity reaches `min_similarity` (the same threshold as
the extractive answerer, `KB_ANSWER_MIN_SIMILARITY`) are sent to the model, numbered
`[1]..[n]`; when none does, the answer says plainly that nothing relevant was found,
cites nothing, and the model is not called. The model is asked to cite every claim
with those numbers. Its markers are then repaired and validated: `[2, 3]`, `[2;3]`,
`[Source 2]`, `[S2]` and `【2】` become `[2][3]` / `[2]`; a number that names no source
is dropped. The used sources are renumbered `1..m` in order of first use, so the answer
obeys the same citation rules as the extractive one (no dangling marker, no unused
citation).

A reply that cites nothing at all (after repair) cannot be checked against any
passage, so it is never shown as an answer: `UncitedAnswer` is raised and the service
falls back to the extractive answer with a notice saying why. The one exception is the
model's own "nothing found" reply (the sentence the prompt prescribes), which becomes
the plain not-found answer with no citations.

`GenerativeAnswerer.stream` yields `StreamEvent`s, in this order:
1. `citations`: the provisional sources, numbered as in the prompt (the text is not
   known yet, so this lists every source sent to the model);
2. `delta`s: the draft answer, markers already repaired and numbered like the
   `citations` event (a marker is held back until complete, so one naming no source
   never reaches the client); the deltas concatenate to the draft;
3. `error`, only when the endpoint fails mid-answer (the draft so far is kept);
4. `done`: the authoritative result, `{answer, citations, answerer, found, used}`:
   the tidied draft renumbered `1..m`, the citations of exactly the sources it uses,
   and `used`, the provisional numbers of those sources in order of first use
   (`done.citations[i]` is provisional source `used[i]`). If the draft cited nothing,
   the generator raises `UncitedAnswer` instead of yielding `done`.

Failure modes (`retrieval.errors`): `LlmUnavailable` when the endpoint fails (see
`retrieval.chat`), `UncitedAnswer` (a subclass) when the reply cites nothing. The
service answers both with the extractive answerer and a `notice`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.answer import NOT_FOUND, Answer, Citation, Passage, passage_citation
from retrieval.chat import ChatClient
from retrieval.errors import LlmUnavailable, UncitedAnswer

_RAW_MARKER = re.compile(
    r"[\[【]\s*(?:sources?|src|s|ref)?\s*#?\s*"
    r"(\d{1,3}(?:\s*[,;]\s*(?:sources?|s)?\s*#?\s*\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_HOLD_BACK = 24  # longest plausible marker, e.g. "[Source 12, Source 13]"

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources you are given. Cite every "
    "sentence with the number of the source it comes from in square brackets, like [2]. "
    "Use only numbers of sources that exist. If the sources do not answer the question, "
    f'reply exactly: "{NOT_FOUND}" Be concise.'
)


@dataclass(frozen=True)
class StreamEvent:
    event: str  # "citations" | "delta" | "error" | "done"
    data: dict[str, Any] = field(default_factory=dict)


def done_event(answer: Answer, *, used: list[int], notice: str | None = None) -> StreamEvent:
    """The final event of an answer stream: the authoritative answer and its citations."""
    data: dict[str, Any] = {
        "answer": answer.text,
        "citations": [c.to_dict() for c in answer.citations],
        "answerer": answer.answerer,
        "found": answer.found,
        "used": used,
    }
    if notice:
        data["notice"] = notice
    return StreamEvent("done", data)


def build_messages(query: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    sources = []
    for number, p in enumerate(passages, start=1):
        where = f", page {p.page_number}" if p.page_number else ""
        sources.append(f"[{number}] ({p.title}{where})\n{p.text}")
    user = "Sources:\n\n" + "\n\n".join(sources) + f"\n\nQuestion: {query}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def repair_markers(text: str, source_count: int) -> str:
    """Normalise marker spellings to `[n]` and drop numbers that name no source."""

    def fix(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        return "".join(f"[{n}]" for n in numbers if 1 <= n <= source_count)

    return _RAW_MARKER.sub(fix, text)


def renumber(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Renumber the used sources 1..m by first use; citations of exactly those."""
    order = _first_use(text)
    renumbered = _MARKER.sub(lambda m: f"[{order[int(m.group(1))]}]", text)
    citations = [passage_citation(new, passages[old - 1]) for old, new in order.items()]
    return renumbered, citations


def _first_use(text: str) -> dict[int, int]:
    """Source number -> its new number, 1..m in order of first use."""
    order: dict[int, int] = {}
    for n in _MARKER.findall(text):
        order.setdefault(int(n), len(order) + 1)
    return order


def _tidy(text: str) -> str:
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _says_not_found(draft: str) -> bool:
    """The model gave the prompt's "nothing found" sentence (markers, quotes aside)."""
    return _words(_MARKER.sub(" ", draft)) == _words(NOT_FOUND)


def _not_found() -> Answer:
    return Answer(NOT_FOUND, [], "generative", found=False)


class GenerativeAnswerer:
    """Answers with an LLM over the relevant passages; markers validated against them.

    `min_similarity` is the extractive answerer's threshold: passages under it are not
    sent, and with none left the model is not called at all.
    """

    def __init__(self, client: ChatClient, *, min_similarity: float = 0.25) -> None:
        self.client = client
        self.min_similarity = min_similarity

    def sources(self, passages: Sequence[Passage]) -> list[Passage]:
        """The passages relevant enough to be numbered sources, in retrieval order."""
        return [p for p in passages if p.similarity >= self.min_similarity]

    def answer(self, query: str, passages: Sequence[Passage]) -> Answer:
        """The checked answer; raises `LlmUnavailable` (or `UncitedAnswer`)."""
        sources = self.sources(passages)
        if not sources:
            return _not_found()
        raw = self.client.complete(build_messages(query, sources))
        answer, _ = _finish(repair_markers(raw, len(sources)), sources)
        return answer

    def stream(self, query: str, passages: Sequence[Passage]) -> Iterator[StreamEvent]:
        """Events: citations, deltas, (error,) done; see the module docstring. Raises
        `LlmUnavailable` before the first event if the endpoint cannot be reached, and
        `UncitedAnswer` instead of `done` if the draft cited nothing."""
        sources = self.sources(passages)
        if not sources:
            yield StreamEvent("citations", {"citations": []})
            yield StreamEvent("delta", {"text": NOT_FOUND})
            yield done_event(_not_found(), used=[])
            return
        deltas = self.client.stream(build_messages(query, sources))
        first = next(deltas, "")  # fail here, before anything is sent, if the LLM is down
        provisional = [passage_citation(n, p) for n, p in enumerate(sources, start=1)]
        yield StreamEvent("citations", {"citations": [c.to_dict() for c in provisional]})
        emitted: list[str] = []
        pending = first
        try:
            for delta in deltas:
                pending += delta
                cut = _safe_prefix_length(pending)
                if cut:
                    piece = repair_markers(pending[:cut], len(sources))
                    pending = pending[cut:]
                    if piece:
                        emitted.append(piece)
                        yield StreamEvent("delta", {"text": piece})
        except LlmUnavailable as exc:
            yield StreamEvent("error", {"message": str(exc)})
        if pending:
            piece = repair_markers(pending, len(sources))
            if piece:
                emitted.append(piece)
                yield StreamEvent("delta", {"text": piece})
        answer, used = _finish("".join(emitted), sources)
        yield done_event(answer, used=used)


def _finish(draft: str, sources: Sequence[Passage]) -> tuple[Answer, list[int]]:
    """The answer of a repaired draft, and the source numbers it used by first use."""
    text = _tidy(draft)
    if _says_not_found(text):
        return _not_found(), []
    used = list(_first_use(text))
    if not used:
        raise UncitedAnswer()
    renumbered, citations = renumber(text, sources)
    return Answer(renumbered, citations, "generative"), used


def _safe_prefix_length(pending: str) -> int:
    """How much of `pending` can be emitted: all but a possibly unfinished marker."""
    opening = max(pending.rfind("["), pending.rfind("【"))
    if opening == -1:
        return len(pending)
    closed = any(ch in pending[opening:] for ch in "]】")
    if closed or len(pending) - opening > _HOLD_BACK:
        return len(pending)
    return opening
