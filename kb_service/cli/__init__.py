"""The `kb-service` command line: the parser and `main()`; each command group has a module.

`serve` (serve, worker, migrate), `keys`, `ingest`, `query`, `reindex`, `eval` and `mcp`.
The last five load the runtime and the model stack, so they are imported only when their command
runs: `--help`, `migrate` and `keys create` start without them.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kb_service.cli.keys import cmd_keys_create
from kb_service.cli.serve import cmd_migrate, cmd_serve, cmd_worker
from kb_service.observability.logs import configure_logging
from kb_service.settings import ConfigurationError, load_settings
from retrieval.errors import IndexUnavailable

DESCRIPTION = "The `kb-service` command line: serve, worker, migrate, keys, ingest, query, reindex, eval, mcp."


def cmd_ingest(args: argparse.Namespace) -> int:
    from kb_service.cli.ingest import ingest_paths

    return ingest_paths([Path(p) for p in args.paths], kb_name=args.kb, org_name=args.org)


def cmd_reindex(args: argparse.Namespace) -> int:
    from kb_service.cli.reindex import reindex_kb, reindex_meetings

    if args.kb is None and not args.meetings:
        print("kb-service reindex: name a knowledge base (--kb NAME) or pass --meetings")
        return 2
    status = reindex_kb(kb_name=args.kb, org_name=args.org) if args.kb else 0
    if status == 0 and args.meetings:
        status = reindex_meetings(org_name=args.org)
    return status


def cmd_query(args: argparse.Namespace) -> int:
    from kb_service.cli.query import query_kb

    return query_kb(
        args.text,
        kb_name=args.kb,
        org_name=args.org,
        top_k=args.top_k,
        mode=args.mode,
        as_json=args.json,
    )


def cmd_eval_beir(args: argparse.Namespace) -> int:
    from kb_service.cli.eval import eval_beir

    return eval_beir(Path(args.dataset), split=args.split, data_dir=args.data_dir)


def cmd_mcp(args: argparse.Namespace) -> int:
    from kb_service.cli.mcp import serve_mcp

    return serve_mcp()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb-service", description=DESCRIPTION)
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

    reindex = commands.add_parser(
        "reindex", help="rebuild a knowledge base's (or the meetings') vectors from stored text"
    )
    reindex.add_argument("--kb", help="knowledge base name")
    reindex.add_argument(
        "--meetings",
        action="store_true",
        help="queue the organization's indexed meetings for re-indexing by serve/worker",
    )
    reindex.add_argument("--org", default="default", help="organization name")
    reindex.set_defaults(func=cmd_reindex)

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

    mcp = commands.add_parser("mcp", help="serve the MCP tools over stdio, as the key KB_API_KEY")
    mcp.set_defaults(func=cmd_mcp)
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
    args = build_parser().parse_args(argv)
    try:
        configure_logging(load_settings().observability.log_format)  # KB_LOG_FORMAT
        return int(args.func(args))
    except (ConfigurationError, IndexUnavailable) as exc:
        print(f"kb-service: {exc}", file=sys.stderr)
        return 2
