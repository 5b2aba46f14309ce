"""The `kb-service` command line: serve, worker, migrate, keys, ingest, query, eval."""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kb_service.settings import ConfigurationError, Settings, load_settings
from retrieval.index import IndexUnavailable


def _settings() -> Settings:
    return load_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kb_service.api.app import create_app

    settings = _settings()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"kb-service: data in {settings.data_dir.resolve()}", flush=True)
    print(f"kb-service: listening on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    print("kb-service: create an API key with: kb-service keys create --org my-org --role admin")
    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level=args.log_level)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from kb_service.runtime import Runtime

    settings = _settings()
    runtime = Runtime.build(settings)
    pool = runtime.start_workers(args.threads or max(1, settings.in_process_workers))
    if settings.webhook_dispatcher_enabled:  # webhook delivery runs here too
        runtime.start_webhook_dispatcher()
    if settings.meeting_indexer_enabled:  # meeting indexing runs here too
        runtime.start_meeting_indexer()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"kb-service worker: {pool.count} thread(s) polling {runtime.db.dialect}", flush=True)
    stop.wait()
    runtime.close()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from kb_service.db.database import Database

    settings = _settings()
    Database(settings.resolved_database_url).migrate()
    print("kb-service: schema is up to date")
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from kb_service.db.database import Database
    from kb_service.services.keys import create_api_key, get_or_create_organization

    settings = _settings()
    db = Database(settings.resolved_database_url)
    db.migrate()
    with db.session() as session:
        org = get_or_create_organization(session, name=args.org)
        key, secret = create_api_key(
            session, organization_id=org.id, role=args.role, name=args.name
        )
        org_id, key_id = org.id, key.id
    if args.json:
        print(json.dumps({"organization_id": org_id, "key_id": key_id, "key": secret}))
    else:
        print(f"Organization: {args.org} ({org_id})")
        print(f"API key {key_id} ({args.role}); shown once, store it now:")
        print(secret)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from kb_service.cli.ingest import ingest_paths

    return ingest_paths([Path(p) for p in args.paths], kb_name=args.kb, org_name=args.org)


def cmd_query(args: argparse.Namespace) -> int:
    from kb_service.cli.eval import cmd_query as run

    return run(
        args.text,
        kb_name=args.kb,
        org_name=args.org,
        top_k=args.top_k,
        mode=args.mode,
        as_json=args.json,
    )


def cmd_eval_beir(args: argparse.Namespace) -> int:
    from kb_service.cli.eval import cmd_eval_beir as run

    return run(Path(args.dataset), split=args.split, data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (and in-process workers)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run standalone ingestion workers")
    worker.add_argument("--threads", type=int)
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="create or upgrade the metadata schema")
    migrate.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys", required=True
    )
    create = keys.add_parser("create", help="create an organization's API key")
    create.add_argument("--org", required=True, help="organization name (created if new)")
    create.add_argument("--role", default="admin", choices=["admin", "writer", "reader"])
    create.add_argument("--name")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_keys_create)

    ingest = commands.add_parser("ingest", help="ingest files or folders into a knowledge base")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--kb", required=True, help="knowledge base name (created if new)")
    ingest.add_argument("--org", default="default", help="organization name (created if new)")
    ingest.set_defaults(func=cmd_ingest)

    query = commands.add_parser("query", help="ask a knowledge base a question")
    query.add_argument("text", help="the question")
    query.add_argument("--kb", required=True, help="knowledge base name")
    query.add_argument("--org", default="default", help="organization name")
    query.add_argument("--top-k", type=int, default=5)
    query.add_argument("--mode", choices=["answer", "retrieve"], default="answer")
    query.add_argument("--json", action="store_true", help="print the API's JSON shape")
    query.set_defaults(func=cmd_query)

    evaluation = commands.add_parser("eval", help="retrieval quality evaluation").add_subparsers(
        dest="eval", required=True
    )
    beir = evaluation.add_parser("beir", help="nDCG@10, Recall@100, MRR@10 on a BEIR dataset")
    beir.add_argument("dataset", help="directory with corpus.jsonl, queries.jsonl, qrels/")
    beir.add_argument("--split", default="test")
    beir.add_argument(
        "--data-dir", type=Path, help="keep the throw-away index here (reused if present)"
    )
    beir.set_defaults(func=cmd_eval_beir)
    return parser


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before any thread starts.

    Every thread that runs the model (workers, the meeting indexer, request threads)
    would otherwise get an arena that keeps the memory of its largest batch; with two
    arenas the idle RSS of serve is about 100 MB lower. A no-op off glibc.
    """
    if "MALLOC_ARENA_MAX" in os.environ:  # the operator's choice wins
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    _limit_malloc_arenas()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigurationError, IndexUnavailable) as exc:
        print(f"kb-service: {exc}", file=sys.stderr)
        return 2

