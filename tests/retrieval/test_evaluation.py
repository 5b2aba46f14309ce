"""Ranking metrics against a hand-checked toy case, and BEIR loading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from retrieval.evaluation import evaluate, load_beir, mrr_at, ndcg_at, recall_at


def test_metrics_match_the_hand_computed_toy_case() -> None:
    qrels = {
        "q1": {"d1": 1, "d2": 1, "d3": 0},  # d3 judged non-relevant
        "q2": {"d5": 2, "d6": 1},  # graded
        "q3": {"d8": 1},  # the system returns nothing
        "q4": {"d9": 0},  # no relevant document: not averaged
    }
    run = {"q1": ["d3", "d1", "d4", "d2"], "q2": ["d6", "d7", "d5"], "q3": []}
    # q1: DCG = 1/log2(3) + 1/log2(5) = 1.061606; IDCG = 1 + 1/log2(3) = 1.630930
    assert ndcg_at(run["q1"], qrels["q1"], 10) == pytest.approx(0.650921, abs=1e-6)
    # q2: DCG = 1/log2(2) + 2/log2(4) = 2; IDCG = 2 + 1/log2(3) = 2.630930
    assert ndcg_at(run["q2"], qrels["q2"], 10) == pytest.approx(0.760187, abs=1e-6)
    assert mrr_at(run["q1"], qrels["q1"], 10) == 0.5
    assert evaluate(run, qrels) == {
        "ndcg@10": round((0.650921 + 0.760187) / 3, 4),
        "recall@100": round(2 / 3, 4),
        "mrr@10": 0.5,
    }


def test_cutoffs_and_duplicates() -> None:
    judgements = {"hit": 1, "other": 1}
    ranked = [f"x{i}" for i in range(10)] + ["hit"]
    assert mrr_at(ranked, judgements, 10) == 0.0  # rank 11 is outside MRR@10
    assert ndcg_at(ranked, judgements, 10) == 0.0
    assert recall_at(ranked, judgements, 100) == 0.5
    assert recall_at([f"x{i}" for i in range(100)] + ["hit"], judgements, 100) == 0.0
    # a document repeated (two chunks of it) counts once, at its best rank
    result = evaluate({"q": ["hit", "hit", "other"]}, {"q": judgements})
    assert result["ndcg@10"] == 1.0 and result["mrr@10"] == 1.0
    assert math.isclose(
        ndcg_at(["hit", "x", "other"], judgements, 10), (1 + 0.5) / (1 + 1 / math.log2(3))
    )


TOY_CORPUS = [
    {"_id": "a", "title": "Vitamin D", "text": "Vitamin D deficiency is common in winter."},
    {"_id": "b", "title": "Aspirin", "text": "Aspirin reduces the risk of heart attacks."},
    {"_id": "c", "title": "Sleep", "text": "Adults need seven to nine hours of sleep."},
]
TOY_QUERIES = [
    {"_id": "1", "text": "Does aspirin prevent heart attacks?"},
    {"_id": "2", "text": "How much sleep do adults need?"},
    {"_id": "3", "text": "unjudged query"},
]
TOY_QRELS = {"1": "b", "2": "c"}


def write_beir(
    root: Path,
    corpus: list[dict[str, str]] = TOY_CORPUS,
    queries: list[dict[str, str]] = TOY_QUERIES,
    qrels: dict[str, str] = TOY_QRELS,
    split: str = "test",
) -> Path:
    """A BEIR dataset directory: corpus.jsonl, queries.jsonl, qrels/{split}.tsv.

    `qrels` maps a query id to its one relevant corpus id (grade 1).
    """
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    rows = "".join(f"{qid}\t{doc}\t1\n" for qid, doc in qrels.items())
    (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return root


def test_load_beir_keeps_the_judged_queries(tmp_path: Path) -> None:
    dataset = load_beir(write_beir(tmp_path / "toy"))
    assert [d.id for d in dataset.corpus] == ["a", "b", "c"]
    assert dataset.judged_queries == {
        "1": "Does aspirin prevent heart attacks?",
        "2": "How much sleep do adults need?",
    }
    with pytest.raises(FileNotFoundError, match=r"qrels"):
        load_beir(tmp_path / "toy", split="dev")
