"""The settings groups: one model per concern, each read from `KB_*` variables.

A group's fields are read from the variables named by its `env_prefix` and the field
name (see `kb_service.settings`, which assembles them into `Settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class ConfigurationError(Exception):
    """A setting is missing or invalid; the message names the variable and why."""


class Group(BaseModel):
    """One concern's settings; `env_prefix` + field name (upper case) is its variable."""

    model_config = ConfigDict(extra="forbid")
    env_prefix: ClassVar[str] = "KB_"

    @classmethod
    def env_name(cls, field: str) -> str:
        return (cls.env_prefix + field).upper()


class StorageSettings(Group):
    data_dir: Path = Path("./.kb-data")
    database_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_collection: str = "kb_chunks"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "KB_DATABASE_URL must be a sqlite:// or postgresql:// URL "
                f"(got a URL with scheme {value.split(':', 1)[0]!r})"
            )
        return value


class EmbeddingSettings(Group):
    env_prefix = "KB_EMBEDDING_"

    model: str | None = None
    # 16 encodes as fast as 64 on CPU and keeps the attention activations (and so the
    # peak RSS of serve) small; see benchmarks/serve_memory.py.
    batch_size: int = Field(default=16, ge=1, le=4096)


class IngestSettings(Group):
    max_upload_mb: float = Field(default=50.0, gt=0)
    in_process_workers: int = Field(default=2, ge=0, le=64)
    job_lease_seconds: float = Field(default=60.0, gt=1)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    job_time_slice_seconds: float = Field(default=30.0, gt=0)  # then yield if others wait
    # Hostile files (ingest/archives.py, ingest/parser_pool.py): past any, a file fails alone.
    archive_max_uncompressed_mb: float = Field(default=512.0, gt=0)
    archive_max_entries: int = Field(default=10_000, ge=1)
    archive_max_ratio: float = Field(default=200.0, ge=1)
    parse_timeout_seconds: float = Field(default=120.0, gt=0)
    parse_max_memory_mb: int = Field(default=2048, ge=64)
    # Text recognition (ingest/ocr.py): the largest image (or TIFF frame) decoded for OCR.
    ocr_max_image_megapixels: float = Field(default=50.0, gt=0, le=150)  # Pillow refuses 179+

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class RetrievalSettings(Group):
    # RRF fusion of the dense and BM25 candidate lists; defaults tuned on SciFact
    # (see retrieval/search.py and benchmarks/scifact_eval.py).
    rrf_k: int = Field(default=10, ge=1, le=1000)
    rrf_dense_weight: float = Field(default=1.0, ge=0)
    rrf_sparse_weight: float = Field(default=1.0, ge=0)
    prefetch_limit: int = Field(default=100, ge=10, le=2000)
    mmr_lambda: float = Field(default=0.7, ge=0, le=1)
    # Passages under this query cosine similarity never reach the generative answerer.
    answer_min_similarity: float = Field(default=0.25, ge=-1, le=1)
    # Found when best cosine + 0.4 * query-word coverage reaches this (retrieval.answerability).
    answer_min_evidence: float = Field(default=0.5, ge=0, le=2)
    # Extractive answers: the best sentence, then supporting ones within this many words.
    answer_max_words: int = Field(default=60, ge=1, le=1000)


class LLMSettings(Group):
    """The optional generative answerer (an OpenAI-compatible chat-completions endpoint)."""

    env_prefix = "KB_LLM_"

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _check_endpoint(self) -> LLMSettings:
        if self.base_url and not self.model:
            raise ValueError(
                "KB_LLM_BASE_URL is set but KB_LLM_MODEL is not: name the chat model to call"
            )
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("KB_LLM_BASE_URL must be an http:// or https:// URL")
        return self


class APISettings(Group):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Public base URL of the API (e.g. https://kb.example.com) for meeting sources'
    # callback_url; default: the URL the request came in on.
    public_url: str | None = None
    metrics_enabled: bool = True
    # Token bucket per API key, in-process (see kb_service/api/ratelimit.py).
    rate_limit_enabled: bool = True
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    # Invitations to a workspace can be accepted once, within this many hours.
    invitation_ttl_hours: float = Field(default=168.0, gt=0, le=24 * 90)
    # The longest grace period `POST /api-keys/{id}/rotate` grants the old secret.
    key_rotation_max_grace_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    # An in-flight duplicate waits this long for the first request, then gets 409.
    idempotency_wait_seconds: float = Field(default=10.0, ge=0)
    # Seals stored idempotent responses (kb_service/secret_key.py); unset: generated once
    # into KB_DATA_DIR. Replicas sharing one PostgreSQL database must share it.
    secret_key: SecretStr | None = None

    @field_validator("secret_key", mode="before")
    @classmethod
    def _check_secret_key(cls, value: object) -> object:
        if value == "":
            return None  # an empty variable means unset
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(secret, str) and len(secret) < 32:
            raise ValueError(
                "KB_SECRET_KEY must be at least 32 characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value


class WebhookSettings(Group):
    env_prefix = "KB_WEBHOOK_"

    dispatcher_enabled: bool = True
    allow_private: bool = False
    timeout_seconds: float = Field(default=10.0, gt=0)
    concurrency: int = Field(default=16, ge=1, le=256)
    poll_seconds: float = Field(default=0.2, gt=0)


class MeetingSettings(Group):
    env_prefix = "KB_MEETING_"

    indexer_enabled: bool = True
    poll_seconds: float = Field(default=0.2, gt=0)
    lease_seconds: float = Field(default=60.0, gt=1)
    # Live segments are embedded on arrival while they arrive at most this fast
    # (segments/s over the last 10 s); faster, they are written lexically only.
    live_embed_max_rate: float = Field(default=5.0, ge=0)
    # A callback whose `timestamp` is further than this from the server clock is refused
    # (401) as a possible replay; 0 disables the check.
    callback_tolerance_seconds: float = Field(default=300.0, ge=0)


class SourceSettings(Group):
    """Web sources (`kb_service/sources`): their syncs, schedule and fetching limits."""

    env_prefix = "KB_SOURCE_"

    sync_enabled: bool = True  # the scheduler and sync workers run under serve/worker
    sync_workers: int = Field(default=1, ge=0, le=16)
    poll_seconds: float = Field(default=1.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=1)
    fetch_timeout_seconds: float = Field(default=20.0, gt=0)
    max_page_mb: float = Field(default=5.0, gt=0)
    max_pages: int = Field(default=500, ge=1, le=10_000)  # a source's default max_pages
    # A sync that would delete more than this share of a source's pages stops instead.
    max_delete_share: float = Field(default=0.2, ge=0, le=1)
    user_agent: str = Field(default="", max_length=300)  # empty: sources.fetch.USER_AGENT
    # Comma-separated origins (scheme://host[:port]) fetched even when private, e.g. an
    # intranet wiki, while every other private address stays refused.
    trusted_origins: str = ""


class TaskSettings(Group):
    """Tasks (`kb_service/services/tasks.py`): their runs, schedule and limits."""

    env_prefix = "KB_TASK_"

    enabled: bool = True  # the scheduler and run workers run under serve/worker
    run_workers: int = Field(default=1, ge=0, le=16)
    poll_seconds: float = Field(default=1.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=1)
    # A schedule whose slots come closer than this is refused.
    min_interval_minutes: int = Field(default=15, ge=1, le=1440)
    max_enabled_per_org: int = Field(default=50, ge=0, le=10_000)


class ObservabilitySettings(Group):
    """Logs and the standalone workers' metrics (`kb_service.observability`)."""

    # json: one JSON object per line (request lines, job transitions, everything else).
    log_format: str = "text"
    # `kb-service worker` serves its own /metrics on this port (unset: none) and address.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("json", "text"):
            return value.strip().lower()
        raise ValueError(f"KB_LOG_FORMAT must be json or text (got {value!r})")

    @field_validator("worker_metrics_port", mode="before")
    @classmethod
    def _empty_port(cls, value: object) -> object:
        return None if value == "" else value  # an empty variable means unset
