"""The golden questions over the sample documents: answer first, right source, refusals.

The figures are printed by `benchmarks/golden_answers.py`; this test holds them to the
targets: the first sentence contains the expected phrase for at least 90% of the
answerable questions, the expected source is cited for at least 95%, and every
unanswerable question is refused (with a reason, citing nothing).
"""

from __future__ import annotations

from typing import Any

from tests.kb_service import golden_questions
from tests.kb_service.query_support import Env, assert_sound


def test_golden_questions_meet_their_targets(query_env: Env) -> None:
    kb = query_env.main  # type: ignore[attr-defined]
    responses: dict[str, dict[str, Any]] = {}

    def ask(question: str) -> dict[str, Any]:
        r = query_env.query(kb, question)
        assert r.status_code == 200, r.text
        responses[question] = data = r.json()["data"]
        assert_sound(query_env, kb, data)
        return data

    figures = golden_questions.score(ask).figures()
    assert figures["first_sentence_has_answer"] >= 0.90, figures
    assert figures["right_source_cited"] >= 0.95, figures
    assert figures["answerable_refused"] <= 0.02, figures
    assert figures["unanswerable_refused"] == 1.0, figures
    for question in golden_questions.UNANSWERABLE:
        data = responses[question]
        assert data["found"] is False and data["citations"] == [] and data["reason"]
        assert 0 <= data["confidence"] < 0.5
    for question, _, _ in golden_questions.ANSWERABLE:
        assert responses[question]["found"] is True
        assert responses[question]["confidence"] >= 0.5
