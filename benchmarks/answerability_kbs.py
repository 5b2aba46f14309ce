"""The answerability benchmark's knowledge bases and the verdict features of its queries."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from kb_service.cli.eval import ingest_dataset, open_kb
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services import search as search_service
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool
from retrieval.evaluation import BeirDataset

FILES_PER_JOB = 50


@dataclass(frozen=True)
class Features:
    similarity: float
    coverage: float


def scifact_kb(runtime: Runtime, dataset: BeirDataset) -> tuple[str, str]:
    """(organization id, kb id) of SciFact, ingested unless the data directory has it."""
    org, kb, populated = open_kb(runtime, "scifact")
    if not populated:
        ingest_dataset(runtime, org, kb, dataset)
    return org, kb


def python_docs_kb(runtime: Runtime, org: str, html_dir: Path) -> str:
    """The Python documentation's knowledge base (its HTML files), ingested once."""
    kb = knowledge_bases.kb_by_name(
        runtime.db, organization_id=org, pipeline=runtime.pipeline, name="python-docs"
    )
    counted = knowledge_bases.get_knowledge_base(runtime.db, organization_id=org, kb_id=kb.id)
    if counted.document_count:
        return kb.id
    files = sorted(
        p for p in html_dir.rglob("*.html") if not p.relative_to(html_dir).parts[0].startswith("_")
    )
    for start in range(0, len(files), FILES_PER_JOB):
        batch = files[start : start + FILES_PER_JOB]
        ingestion.submit_ingest(
            runtime.db,
            organization_id=org,
            kb_id=kb.id,
            uploads=[ingestion.Upload(str(p.relative_to(html_dir)), p.read_bytes()) for p in batch],
        )
    pool = WorkerPool(queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1)
    done = 0
    while pool.run_once(worker_identity()):
        done += 1
        print(f"python docs: job {done} of {-(-len(files) // FILES_PER_JOB)}", file=sys.stderr)
    return kb.id


def features(runtime: Runtime, org: str, kb: str, queries: list[str]) -> list[Features]:
    """The answerability features of each query against `kb` (retrieve mode, top 5)."""
    result = []
    for query in queries:
        answered = search_service.query_knowledge_base(
            runtime.db,
            engine=runtime.query_engine,
            organization_id=org,
            kb_id=kb,
            request=search_service.QueryRequest(query[:2000], top_k=5, answer=False),
        )
        verdict = answered.answerability
        result.append(Features(verdict.similarity, verdict.coverage))
    return result
