"""Web source sync throughput against a loopback site of real pages.

The site is the Python 3.11 documentation's library pages as Debian ships them
(`python3.11-doc`), served on 127.0.0.1 by `http.server` (which answers
`If-Modified-Since` with 304) with a generated sitemap of `--pages` of them. Timed:

- `first_sync`: a sync of a new sitemap source (fetch, robots.txt, trafilatura, apply);
- `ingest` (with `--ingest`; minutes on 2 cores): the ingest job the first sync queued,
  to every page indexed (chunk, embed, Qdrant);
- `unchanged_resync`: the next sync, answered by 304s (conditional requests);
- `unchanged_resync_no_validators`: a sync with the stored validators dropped, so every
  page is downloaded and extracted again and found unchanged by its content hash.

Each is given per wall second and per CPU second of this process (site included).

    .venv/bin/python -m benchmarks.source_sync [--pages 200] [--ingest]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select, update

from kb_service.db.content import Chunk
from kb_service.db.sources import SourcePage
from kb_service.runtime import Runtime
from kb_service.services import knowledge_bases, sources
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import Settings
from kb_service.sources.fetch import UrlGuard
from kb_service.statuses import SourceType
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool

DOCS = Path("/usr/share/doc/python3.11/html")


class _Handler(SimpleHTTPRequestHandler):
    sitemap = b""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/sitemap.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(self.sitemap)))
            self.end_headers()
            self.wfile.write(self.sitemap)
            return
        super().do_GET()


def _serve(pages: int) -> tuple[ThreadingHTTPServer, str]:
    names = sorted(p.name for p in (DOCS / "library").glob("*.html"))[:pages]
    if not names:
        raise SystemExit(f"no pages under {DOCS}: apt-get install python3.11-doc")
    handler: type[_Handler] = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(DOCS)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    locs = "".join(f"<url><loc>{base}/library/{n}</loc></url>" for n in names)
    handler.sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{locs}</urlset>"
    ).encode()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def _figures(pages: int, wall: float, cpu: float) -> dict[str, float]:
    return {
        "seconds": round(wall, 2),
        "pages_per_second": round(pages / wall, 1),
        "pages_per_cpu_second": round(pages / cpu, 1),
    }


def _sync(runtime: Runtime, org_id: str, source_id: str, pages: int) -> dict[str, object]:
    sync = sources.request_sync(runtime.db, organization_id=org_id, source_id=source_id)
    syncer = runtime.source_syncer()
    owner = worker_identity()
    started, cpu_started = time.perf_counter(), time.process_time()
    claimed = syncer.queue.claim(owner)
    assert claimed is not None and claimed[0] == sync.id
    syncer.run(sync.id, owner, claimed[1])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    [done] = sources.list_syncs(
        runtime.db, organization_id=org_id, source_id=source_id, limit=1, cursor=None
    ).items
    return {**_figures(pages, wall, cpu), "counts": sources.sync_view(done)["counts"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--ingest", action="store_true", help="also time indexing the pages")
    args = parser.parse_args()
    server, base = _serve(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(data_dir=Path(tmp), webhook_allow_private=True)
        runtime = Runtime.build(settings)
        runtime.embedder.embed_documents(["warm up the model"] * 8)
        org = get_or_create_organization(runtime.db, name="bench")
        kb = knowledge_bases.kb_by_name(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="docs"
        )
        source = sources.create_source(
            runtime.db,
            organization_id=org.id,
            kb_id=kb.id,
            type=SourceType.SITEMAP,
            url=f"{base}/sitemap.xml",
            interval_minutes=None,
            include=[],
            exclude=[],
            max_pages=args.pages,
            guard=UrlGuard.of(True),
        ).source
        results: dict[str, object] = {"pages": args.pages}
        results["first_sync"] = _sync(runtime, org.id, source.id, args.pages)

        if args.ingest:
            pool = WorkerPool(
                queue=runtime.queue, processor=runtime.processor, count=0, poll_seconds=1
            )
            started, cpu_started = time.perf_counter(), time.process_time()
            while pool.run_once(worker_identity()):
                pass
            wall = time.perf_counter() - started
            indexed: dict[str, float] = _figures(
                args.pages, wall, time.process_time() - cpu_started
            )
            with runtime.db.session() as session:
                chunks = session.scalar(
                    select(func.count()).select_from(Chunk).where(Chunk.knowledge_base_id == kb.id)
                )
            indexed["chunks"] = chunks or 0
            indexed["chunks_per_second"] = round((chunks or 0) / wall, 1)
            results["ingest"] = indexed

        results["unchanged_resync"] = _sync(runtime, org.id, source.id, args.pages)

        with runtime.db.session() as session:
            session.execute(update(SourcePage).values(etag=None, last_modified=None))
        results["unchanged_resync_no_validators"] = _sync(runtime, org.id, source.id, args.pages)
        runtime.close()
    server.shutdown()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
