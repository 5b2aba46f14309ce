"""Every Prometheus metric the service records, defined once (process-wide registry).

Families (the `kb_` names are what `deploy/grafana-dashboard.json` plots):

| metric | type | labels | observed in |
|---|---|---|---|
| `kb_http_request_duration_seconds` | histogram | route (template), method, status | `api/request_log.py` |
| `kb_http_requests_in_flight` | gauge | | `api/request_log.py` |
| `kb_rate_limited_requests_total` | counter | | `api/ratelimit.py` |
| `kb_ingest_documents_total` | counter | outcome, source_type | `workers/ingest/processor.py` |
| `kb_ingest_chunks_total` | counter | outcome, source_type | `workers/ingest/processor.py` |
| `kb_ingest_stage_duration_seconds` | histogram | stage: parse, chunk, embed, index, commit | ingest worker |
| `kb_ingest_jobs_finished_total` | counter | status | `workers/ingest/processor.py` |
| `kb_embedding_batch_size` | histogram | kind: documents | `InstrumentedEmbedder` |
| `kb_embedding_duration_seconds` | histogram | kind: documents, query | `InstrumentedEmbedder` |
| `kb_query_stage_duration_seconds` | histogram | stage: the `Server-Timing` stages | `services/search.py`, the query route |
| `kb_webhook_deliveries_total` | counter | outcome: succeeded, retrying, dead | `workers/webhooks/delivery.py` |
| `kb_webhook_delivery_duration_seconds` | histogram | outcome | `workers/webhooks/delivery.py` |
| `kb_meeting_callbacks_total` | counter | outcome | `services/meeting_callbacks.py` |
| `kb_meeting_time_to_searchable_seconds` | histogram | phase: live, final | `workers/meetings/` |

Gauges read from SQL at scrape time (queue depth, oldest queued job, pending and dead
webhook deliveries, jobs by status) are `kb_service.observability.store`'s.

parse and chunk run in parser processes; their durations come back with the parsed
document (`PreparedDocument.parse_seconds`, `chunk_seconds`) and are observed in
the parent, so no metric is ever recorded in a forked child. embed is per batch of
chunks (of several documents); parse, chunk, index (the upsert) and commit are per
document.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# Without this every counter and histogram also exports a `_created` series per label set.
disable_created_metrics()

# Seconds: from a cached request (~1 ms) to a large upload or a slow model batch.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
# Query stages are milliseconds each.
STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
# Time-to-searchable: live segments within a poll, a whole meeting within minutes.
SEARCHABLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

HTTP_REQUEST_DURATION = Histogram(
    "kb_http_request_duration_seconds",
    "HTTP requests by route template, method and status code.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge("kb_http_requests_in_flight", "HTTP requests being answered now.")
RATE_LIMITED = Counter(
    "kb_rate_limited_requests", "Requests refused with 429 because the key's bucket was empty."
)

INGEST_DOCUMENTS = Counter(
    "kb_ingest_documents",
    "Ingested documents by outcome (indexed, unchanged, superseded, failed) and source type.",
    ["outcome", "source_type"],
)
INGEST_CHUNKS = Counter(
    "kb_ingest_chunks",
    "Chunks of ingested documents by outcome (indexed, superseded) and source type.",
    ["outcome", "source_type"],
)
INGEST_STAGE_DURATION = Histogram(
    "kb_ingest_stage_duration_seconds",
    "Ingestion stages: embed per batch of chunks; parse, chunk, index and commit per document.",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
INGEST_JOBS_FINISHED = Counter(
    "kb_ingest_jobs_finished", "Ingest jobs finished, by final status.", ["status"]
)

EMBEDDING_BATCH_SIZE = Histogram(
    "kb_embedding_batch_size",
    "Texts per document embedding call (chunks of the ingest worker and meeting indexer).",
    ["kind"],
    buckets=BATCH_BUCKETS,
)
EMBEDDING_DURATION = Histogram(
    "kb_embedding_duration_seconds",
    "Seconds per embedding call (a query's includes waiting for a shared model call).",
    ["kind"],
    buckets=LATENCY_BUCKETS,
)

QUERY_STAGE_DURATION = Histogram(
    "kb_query_stage_duration_seconds",
    "Query stages, as in the Server-Timing header: scope, embed, index, rerank, liveness, "
    "answer, serialize.",
    ["stage"],
    buckets=STAGE_BUCKETS,
)

WEBHOOK_DELIVERIES = Counter(
    "kb_webhook_deliveries",
    "Webhook delivery attempts by what became of the delivery: succeeded, retrying, dead.",
    ["outcome"],
)
WEBHOOK_DELIVERY_DURATION = Histogram(
    "kb_webhook_delivery_duration_seconds",
    "Seconds per webhook delivery attempt (request to the receiver's answer).",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)

MEETING_CALLBACKS = Counter(
    "kb_meeting_callbacks",
    "Live meeting callbacks by outcome: accepted, duplicate, ignored, or the refusal's code.",
    ["outcome"],
)
MEETING_TIME_TO_SEARCHABLE = Histogram(
    "kb_meeting_time_to_searchable_seconds",
    "From a segment's arrival (live) or the meeting's end (final) to its points being live.",
    ["phase"],
    buckets=SEARCHABLE_BUCKETS,
)

QUERY_STAGES = ("scope", "embed", "index", "rerank", "liveness", "answer")
_query_stage = {stage: QUERY_STAGE_DURATION.labels(stage) for stage in (*QUERY_STAGES, "serialize")}


def observe_query_stage(stage: str, milliseconds: float) -> None:
    """One query stage's duration, in the milliseconds `Server-Timing` reports."""
    _query_stage[stage].observe(milliseconds / 1000)
