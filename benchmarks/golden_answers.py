"""The golden questions over the sample documents, and what composing an answer costs.

Ingests the sample documents like the query tests do (`tests/kb_service/query_support`:
the real pipeline, model, SQLite and Qdrant Edge), asks every question of
`tests/kb_service/golden_questions.py` through `POST /knowledge-bases/{id}/query`, and
prints: the share of answerable questions whose first sentence holds the expected
phrase, whose expected source is cited, that were refused; the share of unanswerable
ones refused; the median answer length in words; and the p50/p95 of the `answer`
stage of `Server-Timing` (answerability verdict plus extractive composition), over
`--rounds` rounds of all questions. Misses are listed.

    .venv/bin/python -m benchmarks.golden_answers [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from retrieval.embedding import load_embedder
from tests.kb_service import golden_questions
from tests.kb_service.query_support import open_query_env

_ANSWER_STAGE = re.compile(r"answer;dur=([\d.]+)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    stage_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, open_query_env(Path(tmp), load_embedder()) as env:
        kb = env.main  # type: ignore[attr-defined]

        def ask(question: str) -> dict[str, Any]:
            r = env.query(kb, question)
            r.raise_for_status()
            match = _ANSWER_STAGE.search(r.headers["Server-Timing"])
            if match:
                stage_ms.append(float(match.group(1)))
            return dict(r.json()["data"])

        result = golden_questions.score(ask)
        for _ in range(args.rounds - 1):
            golden_questions.score(ask)
    ordered = sorted(stage_ms)
    figures: dict[str, Any] = {
        **result.figures(),
        "answer_stage_p50_ms": round(statistics.median(ordered), 2),
        "answer_stage_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "first_sentence_misses": [f"{q} -> {first}" for q, first in result.misses],
        "refused_answerable": result.refused_answerable,
        "answered_unanswerable": result.answered_unanswerable,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
