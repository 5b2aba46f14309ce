"""`kb-service eval beir DIR` end to end: a toy BEIR dataset through the real pipeline.

The CLI ingests the corpus through the job pipeline into a throw-away SQLite + Qdrant
Edge index, runs every judged query in each search mode and prints JSON. Each toy
query has exactly one relevant document, on a topic no other document touches, so a
working pipeline ranks it first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb_service.cli import main
from retrieval.embedding import Embedder, load_embedder
from tests.retrieval.test_evaluation import write_beir

CORPUS = [
    ("a", "Vitamin D", "Vitamin D deficiency is common in winter, when skin sees little sun."),
    ("b", "Aspirin", "Aspirin reduces the risk of heart attacks in some patients."),
    ("c", "Sleep", "Adults need seven to nine hours of sleep every night."),
    ("d", "Volcanoes", "Volcanoes erupt when molten magma rises through cracks in the crust."),
    ("e", "Honeybees", "Honeybees tell their hive where flowers are with a waggle dance."),
    ("f", "Photosynthesis", "Plants turn sunlight, water and carbon dioxide into sugar."),
    ("g", "Chess", "In chess, castling moves the king two squares towards a rook."),
    ("h", "Espresso", "Espresso coffee is brewed by forcing hot water through fine grounds."),
    ("i", "Tides", "Ocean tides are caused mainly by the gravitational pull of the Moon."),
    ("j", "Penguins", "Emperor penguins breed on the sea ice during the Antarctic winter."),
    ("k", "Bicycles", "Check the tyre pressure of a bicycle every week before riding."),
    ("l", "Python lists", "Python lists are mutable sequences that can grow and shrink."),
]
QUERIES = {
    "1": ("What causes ocean tides?", "i"),
    "2": ("How do honeybees tell each other where the flowers are?", "e"),
    "3": ("How is espresso coffee brewed?", "h"),
    "4": ("Why do volcanoes erupt?", "d"),
}
METRICS = {"ndcg@10", "recall@100", "mrr@10"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["eval", "beir", *argv]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def test_eval_beir_prints_the_metrics_and_a_clear_toy_case_scores_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    # The CLI loads the default model through `load_embedder`, which caches it per
    # process: with the default model settings it reuses the session's `embedder`.
    for name in ("KB_EMBEDDING_MODEL", "KB_EMBEDDING_BATCH_SIZE", "KB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")  # leave this process's malloc alone
    assert load_embedder() is embedder
    dataset = write_beir(
        tmp_path / "toy",
        corpus=[{"_id": i, "title": t, "text": x} for i, t, x in CORPUS],
        queries=[{"_id": q, "text": text} for q, (text, _) in QUERIES.items()]
        + [{"_id": "9", "text": "Which chess opening is best?"}],  # unjudged: not evaluated
        qrels={q: doc for q, (_, doc) in QUERIES.items()},
    )
    index_dir = tmp_path / "index"

    report = run_cli(capsys, str(dataset), "--data-dir", str(index_dir))

    assert report["dataset"] == "toy" and report["split"] == "test"
    assert report["documents"] == len(CORPUS) and report["queries"] == len(QUERIES)
    assert set(report["modes"]) == {"hybrid", "dense", "sparse"}
    for mode, scores in [("printed", report), *report["modes"].items()]:
        assert set(scores) >= METRICS, mode
        assert all(0.0 <= scores[m] <= 1.0 for m in METRICS), (mode, scores)
    # the headline numbers are the hybrid mode's; each relevant document ranks first
    assert {m: report[m] for m in METRICS} == {m: report["modes"]["hybrid"][m] for m in METRICS}
    for mode, scores in report["modes"].items():
        assert scores["recall@100"] == 1.0, mode
        assert scores["ndcg@10"] >= 0.95 and scores["mrr@10"] >= 0.95, (mode, scores)

    # a second run over the same --data-dir reuses the index: same documents, same scores
    again = run_cli(capsys, str(dataset), "--data-dir", str(index_dir))
    assert again["documents"] == len(CORPUS) and again["ingest_seconds"] == 0.0
    assert {m: again[m] for m in METRICS} == {m: report[m] for m in METRICS}
