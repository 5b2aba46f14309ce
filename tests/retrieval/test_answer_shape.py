"""Answer first, blocks with their introductions, the word budget, and answerability."""

from __future__ import annotations

import pytest

from retrieval.answer import ExtractiveAnswerer, Passage, citation_problems
from retrieval.answer_types import AnswerType, expected_type, has_answer_type
from retrieval.answerability import AnswerabilityJudge
from retrieval.sparse import SparseEncoder

SPARSE = SparseEncoder()


def passage(text: str, similarity: float = 0.6, doc: str = "doc") -> Passage:
    return Passage(f"chk_{doc}", doc, "kb_1", doc, f"{doc}.md", None, 100, 100 + len(text),
                   text, 1.0, similarity)  # fmt: skip


@pytest.mark.parametrize(
    ("question", "kind", "answer", "not_answer"),
    [
        ("How long must a password be?", AnswerType.DURATION,
         "Passwords need at least 14 characters.", "You must change your password if asked."),
        ("How often does the password change?", AnswerType.FREQUENCY,
         "The guest password rotates every Monday.", "The guest network is called QF-Guest."),
        ("When do the movers arrive?", AnswerType.TIME,
         "Movers arrive at 08:00.", "Movers pack the boxes."),
        ("How many parking spaces are there?", AnswerType.QUANTITY,
         "The building has forty parking spaces.", "Parking spaces are underground."),
        ("Who owns billing?", AnswerType.AGENT,
         "It is owned by the Payments team.", "billing turns usage into invoices."),
    ],
)  # fmt: skip
def test_questions_name_the_shape_of_their_answer(
    question: str, kind: AnswerType, answer: str, not_answer: str
) -> None:
    assert expected_type(question) is kind
    assert has_answer_type(answer, kind) and not has_answer_type(not_answer, kind)


def test_the_answering_sentence_leads() -> None:
    text = (
        "Single sign-on passwords no longer expire on a schedule. You must change your "
        "password only if the security desk asks you to. Passwords need at least 14 characters."
    )
    answer = ExtractiveAnswerer(SPARSE).answer("How long must a password be?", [passage(text)])
    assert answer.citations[0].text == "Passwords need at least 14 characters."
    assert citation_problems(answer, every_sentence_cited=True) == []


def test_a_sentence_that_introduces_a_block_brings_it_along() -> None:
    text = (
        "Roll back\n\nIf a deploy happened in the last two hours, roll it back first:\n\n"
        "deployctl rollback payments-gateway --to previous\n\nThen tell the incident channel."
    )
    answer = ExtractiveAnswerer(SPARSE).answer("How do I roll back a deploy?", [passage(text)])
    first = answer.citations[0]
    assert first.text.endswith("deployctl rollback payments-gateway --to previous")
    assert text[first.char_start - 100 : first.char_end - 100] == first.text
    assert answer.text.startswith(
        "If a deploy happened in the last two hours, roll it back first:\n"
        "deployctl rollback payments-gateway --to previous [1]"
    )


def test_a_list_introduced_by_a_colon_is_cited_whole() -> None:
    text = "To request access you need:\n\n- a manager's approval\n\n- a YubiKey\n\nThat is all."
    answer = ExtractiveAnswerer(SPARSE).answer("What do I need to request access?", [passage(text)])
    assert answer.citations[0].text == text[: text.index("\n\nThat")]


def test_supporting_sentences_stay_within_the_word_budget() -> None:
    sentences = [f"The office {w} policy covers laptops and monitors in detail." for w in "abcdef"]
    text = " ".join(sentences)
    for budget in (10, 25, 60):
        answer = ExtractiveAnswerer(SPARSE, max_words=budget).answer(
            "What does the office policy cover?", [passage(text)]
        )
        words = sum(len(c.text.split()) for c in answer.citations)
        assert len(answer.citations) >= 1 and (words <= budget or len(answer.citations) == 1)


def test_answerability_weighs_similarity_and_coverage_and_says_why() -> None:
    judge = AnswerabilityJudge(SPARSE, min_evidence=0.5)
    text = "On day one your buddy walks you through the monorepo. The first week is busy."
    covered = judge.judge("What should I do on my first day?", [passage(text, similarity=0.14)])
    assert covered.found and covered.coverage == 1.0 and covered.confidence > 0.5
    unrelated = judge.judge("What is the dress code?", [passage(text, similarity=0.26)])
    assert not unrelated.found and unrelated.missing == ("dress", "code")
    assert unrelated.reason == 'The closest passages do not mention "dress", "code".'
    assert 0 < unrelated.confidence < 0.5 < covered.confidence
    nothing = judge.judge("anything", [])
    assert not nothing.found and nothing.confidence == 0.0 and nothing.reason
    stronger = [judge.judge("dress code", [passage(text, similarity=s)]) for s in (0.2, 0.5, 0.9)]
    assert [v.confidence for v in stronger] == sorted(v.confidence for v in stronger)
