"""BEIR-format datasets and the standard ranking metrics (nDCG@10, Recall@100, MRR@10).

A BEIR dataset directory holds `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
(`_id`, `text`) and `qrels/<split>.tsv` (`query-id`, `corpus-id`, `score`, with a header
row). Metrics follow `trec_eval` / `pytrec_eval`, which BEIR uses:

- nDCG@k: linear gain (the relevance grade) discounted by log2(rank + 1), divided by the
  DCG of the ideal ranking of all judged-relevant documents, cut at k;
- Recall@k: relevant documents in the top k over all relevant documents;
- MRR@k: 1 / rank of the first relevant document in the top k (0 if none).

Each metric is averaged over the queries that have at least one relevant judgement;
a query the system returned nothing for counts as 0. Documents judged 0 are not
relevant. `load_beir` raises `FileNotFoundError` naming the missing file.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirDataset:
    corpus: list[BeirDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def judged_queries(self) -> dict[str, str]:
        """The queries of the split that have at least one relevant document."""
        return {
            qid: text
            for qid, text in self.queries.items()
            if any(g > 0 for g in self.qrels.get(qid, {}).values())
        }


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (expected a BEIR-format dataset)")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (expected qrels/<split>.tsv)")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def load_beir(directory: Path, split: str = "test") -> BeirDataset:
    """Load a BEIR dataset; only the queries judged in `split` are kept."""
    qrels = load_qrels(directory / "qrels" / f"{split}.tsv")
    corpus = [
        BeirDocument(str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or ""))
        for row in _read_jsonl(directory / "corpus.jsonl")
    ]
    queries = {
        str(row["_id"]): str(row["text"])
        for row in _read_jsonl(directory / "queries.jsonl")
        if str(row["_id"]) in qrels
    }
    return BeirDataset(corpus, queries, qrels)


def ndcg_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    dcg = sum(judgements.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in judgements.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, g in judgements.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranked[:k]):
        if judgements.get(doc, 0) > 0:
            return 1.0 / (rank + 1)
    return 0.0


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 of `run` (query id → ranked doc ids)."""
    judged = [qid for qid, j in qrels.items() if any(g > 0 for g in j.values())]
    if not judged:
        raise ValueError("no query has a relevant judgement")
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for qid in judged:
        ranked = _unique(run.get(qid, ()))
        totals["ndcg@10"] += ndcg_at(ranked, qrels[qid], 10)
        totals["recall@100"] += recall_at(ranked, qrels[qid], 100)
        totals["mrr@10"] += mrr_at(ranked, qrels[qid], 10)
    return {name: round(value / len(judged), 4) for name, value in totals.items()}


def _unique(ranked: Sequence[str]) -> list[str]:
    """First occurrence of each id, in order (a document counts once, at its best rank)."""
    return list(dict.fromkeys(ranked))
