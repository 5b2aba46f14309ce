"""Re-ingesting an unchanged knowledge base vs its first ingestion.

Ingests `--docs` SciFact abstracts (as Markdown uploads, through the real job pipeline),
then uploads exactly the same files again. Unchanged content is recognised by its hash
and skipped, so the second pass must take under 10% of the first; the benchmark also
checks that it changed nothing (same documents, versions and chunk count).

    .venv/bin/python -m benchmarks.reingest [--docs 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from benchmarks._corpus import scifact_documents
from benchmarks._ingest import ingest, new_kb, warm_runtime
from kb_service.db.content import Chunk, Document
from kb_service.runtime import Runtime

TARGET_RATIO = 0.10


def _state(runtime: Runtime, kb_id: str) -> tuple[list[tuple[str, int]], int]:
    with runtime.db.session() as session:
        documents = session.execute(
            select(Document.id, Document.version)
            .where(Document.knowledge_base_id == kb_id)
            .order_by(Document.id)
        ).all()
        chunks = session.scalar(
            select(func.count()).select_from(Chunk).where(Chunk.knowledge_base_id == kb_id)
        )
    return [(d, v) for d, v in documents], int(chunks or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args()
    files = scifact_documents(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = warm_runtime(Path(tmp))
        org_id, kb_id = new_kb(runtime, "scifact")
        first = ingest(runtime, org_id, kb_id, files)
        before = _state(runtime, kb_id)
        second = ingest(runtime, org_id, kb_id, files)
        after = _state(runtime, kb_id)
        runtime.close()
    if before != after:
        raise SystemExit("re-ingesting unchanged files changed the knowledge base")
    print(
        json.dumps(
            {
                "documents": len(before[0]),
                "chunks": before[1],
                "first_ingest_seconds": round(first, 2),
                "unchanged_reingest_seconds": round(second, 2),
                "ratio": round(second / first, 4),
                "target_ratio": TARGET_RATIO,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
