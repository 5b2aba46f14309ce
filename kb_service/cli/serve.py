"""`kb-service serve`, `worker` and `migrate`: run the service's processes, or its schema.

Heavy modules (the app, the runtime) are imported when the command runs, so the
parser and `--help` stay fast.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from kb_service.settings import ConfigurationError, Settings, load_settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kb_service.api.app import create_app
    from kb_service.api.request_log import REQUEST_LOGGER

    settings = load_settings()
    host = args.host or settings.api.host
    port = args.port or settings.api.port
    print(f"kb-service: data in {settings.storage.data_dir.resolve()}", flush=True)
    print(f"kb-service: listening on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    print(f"kb-service: web console at http://{host}:{port}/console (sign in with an API key)")
    print("kb-service: create an API key with: kb-service keys create --org my-org --role admin")
    # Our request line replaces uvicorn's access log, so --log-level governs it as it did
    # the access log; uvicorn's own lines go through the root handler (KB_LOG_FORMAT).
    level = logging.getLevelName(args.log_level.upper())
    if isinstance(level, int):  # uvicorn's "trace" is not a logging level: INFO stays
        logging.getLogger(REQUEST_LOGGER).setLevel(level)
    uvicorn.run(
        create_app(settings=settings),
        host=host,
        port=port,
        log_level=args.log_level,
        log_config=None,
        access_log=False,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from kb_service.runtime import Runtime

    settings = load_settings()
    runtime = Runtime.build(settings)
    if settings.observability.worker_metrics_port is not None:
        _serve_worker_metrics(settings)
    pool = runtime.start_workers(args.threads or max(1, settings.ingest.in_process_workers))
    if settings.webhooks.dispatcher_enabled:  # webhook delivery runs here too
        runtime.start_webhook_dispatcher()
    if settings.meetings.indexer_enabled:  # meeting indexing runs here too
        runtime.start_meeting_indexer()
    if settings.sources.sync_enabled:  # web source schedules and syncs run here too
        runtime.start_source_sync()
    if settings.tasks.enabled:  # task schedules and runs run here too
        runtime.start_tasks()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"kb-service worker: {pool.count} thread(s) polling {runtime.db.dialect}", flush=True)
    stop.wait()
    print("kb-service worker: stopping", flush=True)
    runtime.close()
    return 0


def _serve_worker_metrics(settings: Settings) -> None:
    """This process's own metrics on KB_WORKER_METRICS_PORT (the API serves the queue's)."""
    from prometheus_client import start_http_server

    host = settings.observability.worker_metrics_host
    port = settings.observability.worker_metrics_port
    assert port is not None
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise ConfigurationError(
            f"KB_WORKER_METRICS_PORT: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    print(f"kb-service worker: metrics on http://{host}:{port}/metrics", flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from kb_service.db.database import Database

    settings = load_settings()
    Database(settings.resolved_database_url).migrate()
    print("kb-service: schema is up to date")
    return 0
