"""End-to-end ingestion throughput vs the raw embedding model on the same chunks.

Ingests SciFact abstracts (as Markdown files, through the real job pipeline: dedup,
unstructured, tiktoken chunking, MiniLM, BM25, Qdrant Edge, SQLite) until at least
`--chunks` chunks exist, then times `SentenceTransformer.encode` alone on exactly the
texts that were embedded. The ratio is the pipeline's share of the physical limit.

    .venv/bin/python -m benchmarks.ingest_throughput [--docs 2600]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks._corpus import scifact_documents
from benchmarks._ingest import ingest, new_kb, warm_runtime
from kb_service.db.content import Chunk, Document
from kb_service.services.reindex import stored_draft


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2600)
    args = parser.parse_args()
    files = scifact_documents(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = warm_runtime(Path(tmp))
        org_id, kb_id = new_kb(runtime, "scifact")
        elapsed = ingest(runtime, org_id, kb_id, files)

        config = runtime.pipeline.default_chunking()
        with runtime.db.session() as session:
            rows = session.execute(
                select(Chunk, Document.title)
                .join(Document, Document.id == Chunk.document_id)
                .where(Chunk.knowledge_base_id == kb_id)
            ).all()
            texts = [
                runtime.pipeline.redraft(config, title, stored_draft(c)).embedding_text
                for c, title in rows
            ]
        raw_started = time.perf_counter()
        runtime.embedder.embed_documents(texts)
        raw_elapsed = time.perf_counter() - raw_started
        runtime.close()

    e2e = len(texts) / elapsed
    raw = len(texts) / raw_elapsed
    print(
        json.dumps(
            {
                "documents": len(files),
                "chunks": len(texts),
                "end_to_end_seconds": round(elapsed, 2),
                "end_to_end_chunks_per_s": round(e2e, 1),
                "raw_encode_seconds": round(raw_elapsed, 2),
                "raw_encode_chunks_per_s": round(raw, 1),
                "ratio_vs_raw_encode": round(e2e / raw, 3),
                "target_ratio": 0.8,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
