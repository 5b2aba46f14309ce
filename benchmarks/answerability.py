"""Answerability: refuse what a knowledge base does not answer, answer what it does.

Two knowledge bases in one data directory (`--data-dir`, reused by later runs):
SciFact's 5,183 abstracts (ingested like `kb-service eval beir`: text records with the
title as a field) and the Python 3.11 documentation, the HTML files of Debian's
`python3.11-doc` package (installed here with apt-get when missing; else the benchmark
skips with the reason). Every query goes through the service path of `/query` in
retrieve mode, whose `found` verdict comes from `retrieval.answerability`:

- answerable: SciFact's judged queries against the SciFact knowledge base;
- off-topic: the same queries against the Python documentation, and the questions of
  `benchmarks/python_doc_questions.py` against SciFact.

The weight of query-word coverage and the threshold are chosen on SciFact's train
queries (the largest off-topic refusal with at most 2% of answerable train queries
refused), then both that choice and the shipped defaults are reported on the test
queries, with the refusal curve over the threshold. The Python questions have no train
split: they are only ever scored.

    .venv/bin/python -m benchmarks.answerability [--data-dir /tmp/kb-answerability]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

from benchmarks._corpus import SCIFACT
from benchmarks.answerability_kbs import Features, features, python_docs_kb, scifact_kb
from benchmarks.python_doc_questions import PYTHON_QUESTIONS
from kb_service.runtime import Runtime
from kb_service.settings import load_settings
from retrieval.evaluation import load_beir

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8)
THRESHOLDS = [round(0.2 + 0.025 * i, 3) for i in range(33)]  # 0.2 .. 1.0
MAX_ANSWERABLE_REFUSED = 0.02


def refused(samples: list[Features], weight: float, threshold: float) -> float:
    """Share of samples whose evidence falls under the threshold."""
    return sum(s.similarity + weight * s.coverage < threshold for s in samples) / len(samples)


def tune(positive: list[Features], negative: list[Features]) -> tuple[float, float]:
    """(weight, threshold) refusing most negatives with <= 2% of positives refused."""
    best = (-1.0, 0.0, 0.0)
    for weight in WEIGHTS:
        for threshold in THRESHOLDS:
            if refused(positive, weight, threshold) <= MAX_ANSWERABLE_REFUSED:
                best = max(best, (refused(negative, weight, threshold), weight, threshold))
    return best[1], best[2]


def report(
    weight: float, threshold: float, pos: list[Features], neg: dict[str, list[Features]]
) -> dict[str, float]:
    result = {"answerable_refused": round(refused(pos, weight, threshold), 4)}
    for name, samples in neg.items():
        result[f"{name}_refused"] = round(refused(samples, weight, threshold), 4)
    every = [s for samples in neg.values() for s in samples]
    result["off_topic_refused"] = round(refused(every, weight, threshold), 4)
    return result


def ensure_python_docs() -> str | None:
    """None when the HTML is there (installing it if possible), else why not."""
    if PYTHON_DOCS.is_dir():
        return None
    if shutil.which("apt-get") is None:
        return "python3.11-doc is not installed and apt-get is not available"
    done = subprocess.run(["apt-get", "install", "-y", "python3.11-doc"], capture_output=True)
    if done.returncode != 0 or not PYTHON_DOCS.is_dir():
        return f"apt-get install python3.11-doc failed: {done.stderr.decode()[-300:]}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kb-answerability"))
    args = parser.parse_args()
    if not (SCIFACT / "corpus.jsonl").exists():
        print(json.dumps({"skipped": f"SciFact is not at {SCIFACT}"}))
        return
    if (why := ensure_python_docs()) is not None:
        print(json.dumps({"skipped": why}))
        return
    settings = load_settings().replace(data_dir=args.data_dir, database_url=None, qdrant_url=None)
    runtime = Runtime.build(settings)
    try:
        train = load_beir(SCIFACT, "train").judged_queries
        test = load_beir(SCIFACT, "test").judged_queries
        org, sci = scifact_kb(runtime, load_beir(SCIFACT, "test"))
        py = python_docs_kb(runtime, org, PYTHON_DOCS)
        train_pos = features(runtime, org, sci, list(train.values()))
        train_neg = features(runtime, org, py, list(train.values()))
        test_pos = features(runtime, org, sci, list(test.values()))
        test_neg = {
            "scifact_claims_vs_python_docs": features(runtime, org, py, list(test.values())),
            "python_questions_vs_scifact": features(runtime, org, sci, PYTHON_QUESTIONS),
        }
    finally:
        runtime.close()
    shipped = (0.4, settings.retrieval.answer_min_evidence)
    weight, threshold = tune(train_pos, train_neg)
    cosine_only = tune_cosine_only(train_pos, train_neg)
    curve = [{"threshold": t, **report(shipped[0], t, test_pos, test_neg)} for t in THRESHOLDS[::2]]
    figures = {
        "queries": {
            "train_answerable": len(train_pos),
            "test_answerable": len(test_pos),
            **{k: len(v) for k, v in test_neg.items()},
        },
        "shipped": {"weight": shipped[0], "threshold": shipped[1]}
        | report(*shipped, test_pos, test_neg),
        "tuned_on_train": {"weight": weight, "threshold": threshold}
        | report(weight, threshold, test_pos, test_neg),
        "similarity_only_tuned_on_train": {"threshold": cosine_only[1]}
        | report(*cosine_only, test_pos, test_neg),
        "curve_at_shipped_weight": curve,
    }
    print(json.dumps(figures, indent=2))


def tune_cosine_only(positive: list[Features], negative: list[Features]) -> tuple[float, float]:
    """The best single cosine threshold: what one similarity cut achieves alone."""
    best = (-1.0, 0.0)
    for threshold in THRESHOLDS + [round(0.05 * i, 2) for i in range(4)]:
        if refused(positive, 0.0, threshold) <= MAX_ANSWERABLE_REFUSED:
            best = max(best, (refused(negative, 0.0, threshold), threshold))
    return 0.0, best[1]


if __name__ == "__main__":
    main()
