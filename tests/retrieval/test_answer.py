"""The extractive answerer: sentence selection, exact citations, honest "not found"."""

from __future__ import annotations

import pytest

from retrieval.answer import NOT_FOUND, Answer, ExtractiveAnswerer, Passage, citation_problems
from retrieval.sparse import SparseEncoder
from tests.conftest import SAMPLE_DOCS

RUNBOOK = (SAMPLE_DOCS / "runbook.md").read_text()
NOTES = (SAMPLE_DOCS / "notes.txt").read_text()


def passage(
    text: str, start: int, end: int, *, doc: str, rank: int, similarity: float = 0.6
) -> Passage:
    return Passage(
        chunk_id=f"chk_{doc}_{start}",
        document_id=doc,
        knowledge_base_id="kb_1",
        title=doc,
        source=f"{doc}.txt",
        page_number=None,
        char_start=start,
        char_end=end,
        text=text[start:end],
        score=1.0 / (1 + rank),
        similarity=similarity,
    )


def windows(text: str, doc: str, size: int = 500, step: int = 350) -> list[Passage]:
    """Overlapping windows, like an overlapping chunker produces."""
    return [
        passage(text, s, min(len(text), s + size), doc=doc, rank=i)
        for i, s in enumerate(range(0, len(text), step))
    ]


@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    return ExtractiveAnswerer(SparseEncoder())


def check(answer: Answer, documents: dict[str, str]) -> None:
    assert citation_problems(answer, every_sentence_cited=True) == []
    for c in answer.citations:
        assert documents[c.passage.document_id or ""][c.char_start : c.char_end] == c.text


def test_answer_cites_the_sentence_that_answers(answerer: ExtractiveAnswerer) -> None:
    passages = windows(RUNBOOK, "runbook")
    passages.sort(
        key=lambda p: "acquirer" not in p.text
    )  # the retriever put the failover chunk first
    answer = answerer.answer(
        "How long can we stay on the secondary acquirer after failover?", passages
    )
    check(answer, {"runbook": RUNBOOK})
    assert answer.found and answer.answerer == "extractive"
    assert any("switch back within 24 hours" in c.text for c in answer.citations)
    assert answer.text.count("[") == len(answer.citations) <= 4


def test_overlapping_chunks_do_not_repeat_a_sentence(answerer: ExtractiveAnswerer) -> None:
    passages = windows(NOTES, "notes", size=400, step=150)  # heavy overlap
    answer = answerer.answer("When does the guest wifi password change?", passages)
    check(answer, {"notes": NOTES})
    spans = [(c.char_start, c.char_end) for c in answer.citations]
    assert len(spans) == len(set(spans))
    texts = [c.text for c in answer.citations]
    assert len(texts) == len(set(texts))
    assert any("rotates every Monday" in t for t in texts)


def test_citation_properties_hold_for_many_questions(answerer: ExtractiveAnswerer) -> None:
    documents = {"runbook": RUNBOOK, "notes": NOTES}
    pool = windows(RUNBOOK, "runbook") + windows(NOTES, "notes")
    questions = [
        "Who owns decisions during an incident?",
        "When does the alert fire?",
        "How do I roll back?",
        "Where is the new office?",
        "How are parking spaces allocated?",
        "What Wi-Fi network will IT install?",
        "When is the postmortem due?",
        "What should I check on the dashboards?",
        "TLS certificate expiry",
        "Who keeps the spare key?",
        "movers arrival time",
        "fraud rules",
        "bike room showers",
    ]
    for i, question in enumerate(questions):
        rotated = pool[i % len(pool) :] + pool[: i % len(pool)]
        answer = answerer.answer(question, rotated)
        assert answer.found and answer.citations, question
        check(answer, documents)


def test_bracketed_numbers_in_sources_never_read_as_markers(answerer: ExtractiveAnswerer) -> None:
    text = "Aspirin lowers the risk of a second heart attack [12]. Dosing is 75 mg daily [3]."
    answer = answerer.answer(
        "aspirin heart attack risk", [passage(text, 0, len(text), doc="paper", rank=0)]
    )
    check(answer, {"paper": text})
    assert "(12)" in answer.text and "[12]" not in answer.text
    assert answer.citations[0].text.endswith("[12].")  # the citation itself stays literal


def test_nothing_relevant_says_so_without_citations(answerer: ExtractiveAnswerer) -> None:
    weak = [passage(RUNBOOK, 0, 300, doc="runbook", rank=0, similarity=0.05)]
    answer = answerer.answer("best banana bread recipe", weak)
    assert (answer.text, answer.citations, answer.found) == (NOT_FOUND, [], False)
    assert answer.answerability is not None
    assert answer.answerability.reason == (
        'The closest passages do not mention "best", "banana", "bread", "recipe".'
    )
    assert answerer.answer("anything", []).citations == []


def test_citation_problems_detects_each_violation() -> None:
    p = passage(NOTES, 0, 200, doc="notes", rank=0)
    good = ExtractiveAnswerer(SparseEncoder()).answer("When does the Lisbon team move?", [p])
    assert citation_problems(good, every_sentence_cited=True) == []
    dangling = Answer(good.text + " Extra claim [9].", good.citations, "extractive")
    assert any("without a citation" in m for m in citation_problems(dangling))
    assert any(
        "uncited" in m
        for m in citation_problems(
            Answer(good.text + " Uncited.", good.citations, "extractive"), every_sentence_cited=True
        )
    )
    unused = Answer("No markers here.", good.citations, "extractive")
    assert any("never referenced" in m for m in citation_problems(unused))
