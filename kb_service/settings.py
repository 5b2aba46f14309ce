"""Service configuration: every setting is a `KB_*` environment variable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A setting is missing or invalid; the message names the variable and why."""


class Settings(BaseSettings):
    """All `KB_*` settings, validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    data_dir: Path = Field(default=Path("./.kb-data"))
    database_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_collection: str = "kb_chunks"
    embedding_model: str | None = None
    # 16 encodes as fast as 64 on CPU and keeps the attention activations (and so the
    # peak RSS of serve) small; see benchmarks/serve_memory.py.
    embedding_batch_size: int = Field(default=16, ge=1, le=4096)
    max_upload_mb: float = Field(default=50.0, gt=0)
    in_process_workers: int = Field(default=1, ge=0, le=64)
    job_lease_seconds: float = Field(default=60.0, gt=1)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    webhook_allow_private: bool = False
    metrics_enabled: bool = True
    # -- retrieval and answers --
    # RRF fusion of the dense and BM25 candidate lists; defaults tuned on SciFact
    # (see retrieval/search.py and benchmarks/scifact_eval.py).
    rrf_k: int = Field(default=10, ge=1, le=1000)
    rrf_dense_weight: float = Field(default=1.0, ge=0)
    rrf_sparse_weight: float = Field(default=1.0, ge=0)
    prefetch_limit: int = Field(default=100, ge=10, le=2000)
    mmr_lambda: float = Field(default=0.7, ge=0, le=1)
    # Below this query-chunk cosine similarity the answer says "nothing found".
    answer_min_similarity: float = Field(default=0.25, ge=-1, le=1)
    # Optional generative answerer (OpenAI-compatible chat completions).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    # -- end retrieval --
    # -- API contract and webhooks --
    # Token bucket per API key, in-process (see kb_service/api/ratelimit.py).
    rate_limit_enabled: bool = True
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    # An in-flight duplicate waits this long for the first request, then gets 409.
    idempotency_wait_seconds: float = Field(default=10.0, ge=0)
    # Seals stored idempotent responses (kb_service/secret_key.py); unset: generated once
    # into KB_DATA_DIR. Replicas sharing one PostgreSQL database must share it.
    secret_key: SecretStr | None = None
    webhook_dispatcher_enabled: bool = True
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    webhook_poll_seconds: float = Field(default=0.2, gt=0)
    # -- end API contract --
    # -- meetings --
    meeting_indexer_enabled: bool = True
    meeting_poll_seconds: float = Field(default=0.2, gt=0)
    meeting_lease_seconds: float = Field(default=60.0, gt=1)
    # Live segments are embedded on arrival while they arrive at most this fast
    # (segments/s over the last 10 s); faster, they are written lexically only.
    meeting_live_embed_max_rate: float = Field(default=5.0, ge=0)
    # A callback whose `timestamp` is further than this from the server clock is refused
    # (401) as a possible replay; 0 disables the check.
    meeting_callback_tolerance_seconds: float = Field(default=300.0, ge=0)
    # Public base URL of the API (e.g. https://kb.example.com) for meeting sources'
    # callback_url; default: the URL the request came in on.
    public_url: str | None = None
    # -- end meetings --
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "KB_DATABASE_URL must be a sqlite:// or postgresql:// URL "
                f"(got a URL with scheme {value.split(':', 1)[0]!r})"
            )
        return value

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

    @model_validator(mode="after")
    def _check_llm(self) -> Settings:
        if self.llm_base_url and not self.llm_model:
            raise ValueError(
                "KB_LLM_BASE_URL is set but KB_LLM_MODEL is not: name the chat model to call"
            )
        if self.llm_base_url and not self.llm_base_url.startswith(("http://", "https://")):
            raise ValueError("KB_LLM_BASE_URL must be an http:// or https:// URL")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The metadata database: `KB_DATABASE_URL`, else a SQLite file in `KB_DATA_DIR`."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'kb.sqlite3').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def qdrant_edge_path(self) -> Path:
        return self.data_dir / "qdrant-edge"


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one sentence."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"KB_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from None
