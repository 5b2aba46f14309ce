"""Warm query latency over HTTP on loopback against a 50,000-chunk knowledge base.

    .venv/bin/python -m benchmarks.query_latency [--chunks 50000] [--requests 300]
        [--widths 3,2,1] [--server-log-level warning]

How the KB is built (say so in any figure): the SciFact abstracts become 5,183 SQL
documents (status `indexed`, version 1, their text stored like ingestion stores it),
and their sentences become chunks: windows of three consecutive sentences, then of
two, until `--chunks` chunks exist (`--widths 1`: single sentences, of which there
are about 52,000, for a quarter of the model time), each embedded with the real
MiniLM model and BM25 encoder and written straight through the vector index (Qdrant
Edge) with the payload ingestion writes. This skips parsing and the job queue
(minutes of model time on 2 cores) but the search path is the product's: `kb-service
serve` in a subprocess, auth, SQL scope + liveness, Qdrant hybrid query, JSON.
Embeddings are cached in the data directory, so later runs start at once.

Reported: p50/p95 for one client (retrieve, then answer mode), throughput and p95
with 8 concurrent clients, and the median of each `Server-Timing` stage (embed,
index, liveness, answer, serialize) so you can see where the time goes. The machine
has 2 CPU cores shared with other work; the client runs on the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._corpus import SCIFACT

PORT = 8765


def _sentences(text: str) -> list[tuple[int, int]]:
    from ingest.sentences import sentence_spans

    return sentence_spans(text, 0, len(text))


def build(data_dir: Path, target: int, widths: tuple[int, ...] = (3, 2, 1)) -> None:
    from ingest.documents import ChunkDraft
    from kb_service.db.base import utcnow
    from kb_service.db.content import Document
    from kb_service.runtime import Runtime
    from kb_service.services import knowledge_bases
    from kb_service.services.keys import get_or_create_organization
    from kb_service.settings import Settings
    from retrieval.index import IndexPoint
    from retrieval.indexing import ChunkOrigin, EmbeddedChunks, build_points

    runtime = Runtime.build(Settings.from_env(data_dir=data_dir, in_process_workers=0))
    docs = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open()]
    texts = {d["_id"]: f"{d['title']}\n\n{d['text']}" for d in docs}
    spans: list[tuple[str, int, int]] = []
    for width in widths:
        for doc_id, text in texts.items():
            sentences = _sentences(text)
            for i in range(0, max(1, len(sentences) - width + 1)):
                window = sentences[i : i + width]
                spans.append((doc_id, window[0][0], window[-1][1]))
        if len(spans) >= target:
            break
    spans = spans[:target]
    cache = data_dir / f"dense-{target}-{'-'.join(map(str, widths))}.npy"
    if cache.exists():
        dense = np.load(cache)
    else:
        print(f"embedding {len(spans)} chunks (cached in {cache})...", flush=True)
        started = time.perf_counter()
        dense = runtime.embedder.embed_documents([texts[d][s:e] for d, s, e in spans])
        np.save(cache, dense)
        print(f"  {len(spans) / (time.perf_counter() - started):.0f} chunks/s", flush=True)
    org = get_or_create_organization(runtime.db, name="bench")
    kb = knowledge_bases.create_knowledge_base(
        runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="latency"
    ).knowledge_base
    with runtime.db.session() as session:
        now = utcnow()
        doc_ids = {d: f"doc_scifact{d}" for d in texts}
        for d, text in texts.items():
            session.add(
                Document(
                    id=doc_ids[d],
                    organization_id=org.id,
                    knowledge_base_id=kb.id,
                    title=text.split("\n", 1)[0][:500],
                    source=f"scifact-{d}.json",
                    source_type="json",
                    external_id=d,
                    content_hash=d,
                    version=1,
                    status="indexed",
                    chunk_count=0,
                    char_count=len(text),
                    text=text,
                    metadata_={},
                    created_at=now,
                    updated_at=now,
                )
            )
        org_id, kb_id = org.id, kb.id
    sparse = runtime.sparse_encoder
    ordinals: dict[str, int] = {}
    batch: list[IndexPoint] = []
    for row, (d, s, e) in enumerate(spans):
        ordinal = ordinals[d] = ordinals.get(d, -1) + 1
        origin = ChunkOrigin.document(
            organization_id=org_id,
            knowledge_base_id=kb_id,
            project_id=None,
            document_id=doc_ids[d],
            source_type="json",
            created_at=now.timestamp(),
        )
        text = texts[d][s:e]
        vectors = EmbeddedChunks(dense[row : row + 1], [sparse.embed_document(text)])
        batch += build_points(origin, [ChunkDraft(ordinal, text, s, e, 0)], vectors, version=1)
        if len(batch) == 1000:
            _write(runtime, batch)
            batch = []
    _write(runtime, batch)
    runtime.close()
    (data_dir / "built.json").write_text(json.dumps({"kb_id": kb_id, "chunks": len(spans)}))


def _write(runtime: Any, points: list[Any]) -> None:
    """Points into the index and their chunk rows into SQL, as ingestion commits them."""
    from kb_service.db.content import Chunk

    runtime.index.upsert(points)
    with runtime.db.session() as session:
        for point in points:
            p = point.payload
            session.add(
                Chunk(
                    id=p["chunk_id"],
                    point_id=point.id,
                    document_id=p["document_id"],
                    knowledge_base_id=p["knowledge_base_id"],
                    organization_id=p["organization_id"],
                    ordinal=p["ordinal"],
                    text=p["text"],
                    char_start=p["char_start"],
                    char_end=p["char_end"],
                    token_count=0,
                    page_number=None,
                    section=[],
                )
            )


def serve(
    data_dir: Path, org: str, log_level: str = "warning"
) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "KB_IN_PROCESS_WORKERS": "0"}
    exe = Path(sys.executable).parent / "kb-service"
    key = json.loads(
        subprocess.run(
            [exe, "keys", "create", "--org", org, "--role", "reader", "--json"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )["key"]
    server = subprocess.Popen(
        [exe, "serve", "--port", str(PORT), "--log-level", log_level],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz").status_code == 200:
                return server, key
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def _timing(header: str) -> dict[str, float]:
    return {m[0]: float(m[1]) for m in re.findall(r"(\w+);dur=([\d.]+)", header)}


def run(client: httpx.Client, url: str, queries: list[str], mode: str) -> list[dict[str, float]]:
    samples = []
    for q in queries:
        started = time.perf_counter()
        r = client.post(url, json={"query": q, "mode": mode, "top_k": 10})
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 200 and r.json()["data"]["chunks"], r.text
        samples.append({"total": elapsed, **_timing(r.headers.get("server-timing", ""))})
    return samples


def summary(samples: list[dict[str, float]]) -> dict[str, float]:
    totals = sorted(s["total"] for s in samples)
    result = {
        "p50_ms": round(statistics.median(totals), 1),
        "p95_ms": round(totals[int(0.95 * (len(totals) - 1))], 1),
    }
    for stage in ("scope", "embed", "index", "liveness", "answer", "serialize"):
        values = [s[stage] for s in samples if stage in s]
        if values:
            result[f"{stage}_p50_ms"] = round(statistics.median(values), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kb-latency"))
    parser.add_argument("--build-only", action="store_true", help="build the KB, measure nothing")
    parser.add_argument(
        "--server-log-level",
        default="warning",
        help="serve's --log-level (info: with one request log line per query, to stderr)",
    )
    parser.add_argument(
        "--widths",
        default="3,2,1",
        help="sentence-window widths, tried in order until --chunks windows exist "
        "(1,2 builds the KB from single sentences first: ~4x less model time)",
    )
    args = parser.parse_args()
    if not (SCIFACT / "corpus.jsonl").exists():
        print(f"SKIP: SciFact not found at {SCIFACT}")
        return
    if not (args.data_dir / "built.json").exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        build(args.data_dir, args.chunks, tuple(int(w) for w in args.widths.split(",")))
    built = json.loads((args.data_dir / "built.json").read_text())
    if args.build_only:
        return
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
    # built.json may name another organization (e.g. the `eval beir` KB, "beir-eval")
    server, key = serve(args.data_dir, built.get("org", "bench"), args.server_log_level)
    url = f"http://127.0.0.1:{PORT}/api/v1/knowledge-bases/{built['kb_id']}/query"
    report: dict[str, Any] = {"chunks": built["chunks"], "cpu_cores": os.cpu_count()}
    try:
        with httpx.Client(headers={"X-API-Key": key}, timeout=30) as client:
            run(client, url, queries[-50:], "retrieve")  # warm-up
            n = args.requests
            report["retrieve_1_client"] = summary(run(client, url, queries[:n], "retrieve"))
            report["answer_1_client"] = summary(run(client, url, queries[:n], "answer"))

        def worker(i: int) -> list[dict[str, float]]:
            with httpx.Client(headers={"X-API-Key": key}, timeout=60) as c:
                return run(c, url, queries[n + i * 60 : n + (i + 1) * 60], "retrieve")

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            samples = [s for batch in pool.map(worker, range(8)) for s in batch]
        wall = time.perf_counter() - started
        report["retrieve_8_clients"] = {
            **summary(samples),
            "throughput_rps": round(len(samples) / wall, 1),
        }
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
