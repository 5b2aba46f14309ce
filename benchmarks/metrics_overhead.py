"""What the instrumentation costs one query, measured in isolation (microseconds).

    .venv/bin/python -m benchmarks.metrics_overhead [--requests 20000]

End-to-end latency on a shared 2-core machine moves by milliseconds between runs,
far more than metrics cost, so this times the added work alone, in this process:
`RequestLogMiddleware` around a do-nothing ASGI app (request line off, as under
`serve --log-level warning`, and on, as JSON to /dev/null), against the bare app; and
the seven `kb_query_stage_duration_seconds` observations of one query plus the
`InstrumentedEmbedder` bookkeeping of its query embedding; and what the ingest worker
records per document (stage timers, parse/chunk durations, outcome counters).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from typing import Any

from ingest.documents import ExtractedDocument
from ingest.pipeline import PreparedDocument
from kb_service.api.request_log import REQUEST_LOGGER, RequestLogMiddleware
from kb_service.observability import ingest
from kb_service.observability.logs import JsonFormatter
from kb_service.observability.metrics import EMBEDDING_DURATION, observe_query_stage

STAGES = ("scope", "embed", "index", "rerank", "liveness", "answer", "serialize")


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


class _Route:
    path = "/api/v1/knowledge-bases/{kb_id}/query"


async def _noop_send(message: Any) -> None:
    return None


async def _receive() -> Any:
    return {"type": "http.request", "body": b""}


def _per_request_us(app: Any, n: int) -> float:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/knowledge-bases/kb_123/query",
        "route": _Route(),
        "state": {"request_id": "req_1"},
    }

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), _receive, _noop_send)
        return time.perf_counter() - started

    return asyncio.run(run()) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    n = parser.parse_args().requests
    request_log = logging.getLogger(REQUEST_LOGGER)
    request_log.propagate = False
    report: dict[str, float] = {}
    bare = min(_per_request_us(_app, n) for _ in range(3))
    request_log.setLevel(logging.WARNING)
    quiet = min(_per_request_us(RequestLogMiddleware(_app), n) for _ in range(3))
    with open(os.devnull, "w") as devnull:
        handler = logging.StreamHandler(devnull)
        handler.setFormatter(JsonFormatter())
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        logged = min(_per_request_us(RequestLogMiddleware(_app), n) for _ in range(3))
        request_log.removeHandler(handler)
    report["middleware_us_request_line_off"] = round(quiet - bare, 1)
    report["middleware_us_json_request_line"] = round(logged - bare, 1)

    query_time = EMBEDDING_DURATION.labels("query")
    started = time.perf_counter()
    for _ in range(n):
        for stage in STAGES:
            observe_query_stage(stage, 1.0)
        query_time.observe(time.perf_counter() - started)
    report["query_observations_us"] = round((time.perf_counter() - started) / n * 1e6, 1)
    report["total_us_per_query_json_logs"] = round(
        report["middleware_us_json_request_line"] + report["query_observations_us"], 1
    )

    document = PreparedDocument(ExtractedDocument("text", [], "markdown"), [], 0.01, 0.001)
    started = time.perf_counter()
    for _ in range(n):
        for stage in ("embed", "index", "commit"):
            with ingest.stage(stage):
                pass
        ingest.prepared(document)
        ingest.document_done("indexed", "markdown", 3)
    report["ingest_observations_us_per_document"] = round(
        (time.perf_counter() - started) / n * 1e6, 1
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
