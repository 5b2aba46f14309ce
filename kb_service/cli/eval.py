"""`kb-service eval beir DIR`: retrieval quality on a BEIR dataset, printed as JSON.

The command ingests the dataset (each corpus document as a JSON text record: its text,
its `title` as the record's title field, which the embedded text carries, and
`external_id` = the corpus id) through the real job pipeline into a throw-away
knowledge base in a temporary `KB_DATA_DIR` (or `--data-dir`, reused when it already
holds the dataset), runs every judged query of the split through the same service path
as `/query` (hybrid, then dense-only and sparse-only), ranks documents by their best
chunk, and prints nDCG@10, Recall@100 and MRR@10. Fusion settings come from the usual
`KB_RRF_*` variables.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tqdm import tqdm

from kb_service.db.content import Document
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services import search as search_service
from kb_service.services.keys import get_or_create_organization
from kb_service.services.query_engine import build_query_engine
from kb_service.settings import Settings, load_settings
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool
from retrieval.evaluation import BeirDataset, evaluate, load_beir
from retrieval.search import SearchMode

EVAL_ORG = "beir-eval"
CHUNKS_PER_QUERY = 300  # deep enough to rank 100 distinct documents


def open_kb(runtime: Runtime, name: str) -> tuple[str, str, bool]:
    """(organization id, kb id, already populated) of the evaluation knowledge base."""
    org = get_or_create_organization(runtime.db, name=EVAL_ORG)
    kb = knowledge_bases.kb_by_name(
        runtime.db,
        organization_id=org.id,
        pipeline=runtime.pipeline,
        name=name,
        description="BEIR evaluation",
    )
    counted = knowledge_bases.get_knowledge_base(runtime.db, organization_id=org.id, kb_id=kb.id)
    return org.id, kb.id, counted.document_count > 0


def ingest_dataset(runtime: Runtime, org_id: str, kb_id: str, dataset: BeirDataset) -> None:
    """Ingest the corpus through the job pipeline, in this process, with a progress bar."""
    docs = dataset.corpus
    for start in range(0, len(docs), ingestion.MAX_DOCUMENTS_PER_JOB):
        ingestion.submit_ingest(
            runtime.db,
            organization_id=org_id,
            kb_id=kb_id,
            records=[
                ingestion.TextRecord(
                    text=d.text,
                    title=d.title or None,
                    external_id=d.id,
                )
                for d in docs[start : start + ingestion.MAX_DOCUMENTS_PER_JOB]
            ],
        )
    pool = WorkerPool(queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1)
    worker = worker_identity()
    with tqdm(
        total=-(-len(docs) // ingestion.MAX_DOCUMENTS_PER_JOB), unit="job", file=sys.stderr
    ) as bar:
        while pool.run_once(worker):
            bar.update(1)


def run_mode(
    runtime: Runtime,
    org_id: str,
    kb_id: str,
    queries: dict[str, str],
    mode: SearchMode,
    *,
    settings: Settings | None = None,
    diversify: bool = False,
) -> tuple[dict[str, list[str]], float]:
    """Ranked corpus ids per query, and the mean milliseconds per query."""
    engine = build_query_engine(
        settings or runtime.settings,
        embedder=runtime.embedder,
        sparse_encoder=runtime.sparse_encoder,
        index=runtime.index,
    )
    with runtime.db.session() as session:
        external = dict(
            session.execute(
                select(Document.id, Document.external_id).where(Document.knowledge_base_id == kb_id)
            ).all()
        )
        scope = search_service.kb_scope(
            session,
            organization_id=org_id,
            kb_id=kb_id,
            filters=search_service.QueryFilter(),
        )
        run: dict[str, list[str]] = {}
        started = time.perf_counter()
        for qid, text in queries.items():
            passages = search_service.retrieve_live(
                session,
                retriever=engine.retriever,
                scope=scope,
                query=text,
                top_k=CHUNKS_PER_QUERY,
                mode=mode,
                diversify=diversify,
                timings=search_service.QueryTimings(),
            )
            ranked = (external.get(p.document_id or "") for p in passages)
            run[qid] = list(dict.fromkeys(r for r in ranked if r))
        elapsed = (time.perf_counter() - started) * 1000 / max(1, len(queries))
    return run, elapsed


def evaluate_beir(
    directory: Path,
    *,
    split: str = "test",
    data_dir: Path | None = None,
    settings: Settings | None = None,
    modes: tuple[SearchMode, ...] = (SearchMode.HYBRID, SearchMode.DENSE, SearchMode.SPARSE),
) -> dict[str, Any]:
    """Ingest (unless already there) and evaluate; the report `eval beir` prints."""
    dataset = load_beir(directory, split)
    base = settings or load_settings()
    with ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kb-eval-")))
        isolated = base.replace(data_dir=data_dir, database_url=None, qdrant_url=None)
        runtime = Runtime.build(isolated)
        stack.callback(runtime.close)
        org_id, kb_id, populated = open_kb(runtime, directory.name)
        started = time.perf_counter()
        if not populated:
            ingest_dataset(runtime, org_id, kb_id, dataset)
        ingest_seconds = time.perf_counter() - started
        queries = dataset.judged_queries
        report: dict[str, Any] = {"dataset": directory.name, "split": split}
        by_mode = {}
        for mode in modes:
            run, ms = run_mode(runtime, org_id, kb_id, queries, mode)
            by_mode[mode.value] = {**evaluate(run, dataset.qrels), "ms_per_query": round(ms, 1)}
        with runtime.db.session() as session:
            counts = knowledge_bases.kb_counts(session, [kb_id])[kb_id]
        report.update(by_mode[modes[0].value])
        report.update(
            {
                "modes": by_mode,
                "documents": counts[0],
                "chunks": counts[1],
                "queries": len(queries),
                "ingest_seconds": round(ingest_seconds, 1),
                "fusion": {
                    "rrf_k": base.retrieval.rrf_k,
                    "dense_weight": base.retrieval.rrf_dense_weight,
                    "sparse_weight": base.retrieval.rrf_sparse_weight,
                    "prefetch_limit": max(
                        base.retrieval.prefetch_limit, search_service.fetch_size(CHUNKS_PER_QUERY)
                    ),
                },
            }
        )
        return report


def eval_beir(directory: Path, *, split: str, data_dir: Path | None) -> int:
    """Print the report of `evaluate_beir`; 2 when the dataset directory or a file is missing."""
    if not directory.is_dir():
        print(f"kb-service: {directory} is not a directory", file=sys.stderr)
        return 2
    try:
        report = evaluate_beir(directory, split=split, data_dir=data_dir)
    except FileNotFoundError as exc:
        print(f"kb-service: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0
