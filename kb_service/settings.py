"""Service configuration: every setting is a `KB_*` environment variable, grouped by concern.

`Settings` holds one model per concern (`storage`, `embedding`, `ingest`, `retrieval`,
`llm`, `api`, `webhooks`, `meetings`, `sources`, `tasks`, `observability`). A group's fields are
read from the variables named by its `env_prefix` and the field name: `webhooks.timeout_seconds` is
`KB_WEBHOOK_TIMEOUT_SECONDS`, `ingest.job_lease_seconds` is `KB_JOB_LEASE_SECONDS`.
Code that sets some values itself names them flat (the variable without `KB_`, lower
case): `Settings.from_env(data_dir=..., in_process_workers=0)`, `settings.replace(...)`.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from kb_service.settings_groups import (
    APISettings,
    ConfigurationError,
    EmbeddingSettings,
    Group,
    IngestSettings,
    LLMSettings,
    MeetingSettings,
    ObservabilitySettings,
    RetrievalSettings,
    SourceSettings,
    StorageSettings,
    TaskSettings,
    WebhookSettings,
)

__all__ = ["ConfigurationError", "Group", "Settings", "load_settings"]


class Settings(BaseSettings):
    """All `KB_*` settings, validated at start-up (see the module docstring)."""

    model_config = SettingsConfigDict(extra="forbid")

    storage: StorageSettings = Field(default_factory=StorageSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: APISettings = Field(default_factory=APISettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    meetings: MeetingSettings = Field(default_factory=MeetingSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

    @classmethod
    def groups(cls) -> dict[str, type[Group]]:
        return {name: _group_of(info) for name, info in cls.model_fields.items()}

    @classmethod
    def env_names(cls) -> dict[str, tuple[str, str]]:
        """Every variable: `KB_NAME` → (group, field)."""
        return {
            group.env_name(field): (name, field)
            for name, group in cls.groups().items()
            for field in group.model_fields
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        return (init_settings, _GroupedEnvironment(settings_cls))

    @model_validator(mode="before")
    @classmethod
    def _group_flat_names(cls, data: Any) -> Any:
        """Move flat names (`in_process_workers`) into their group; they win over its values."""
        if not isinstance(data, dict):
            return data
        by_name = {f"KB_{key.upper()}": key for key in data if key not in cls.model_fields}
        grouped = {key: value for key, value in data.items() if key in cls.model_fields}
        for env_name, (group, field) in cls.env_names().items():
            if env_name in by_name:
                section = grouped.get(group)
                section = dict(section) if isinstance(section, dict) else {}
                section[field] = data[by_name.pop(env_name)]
                grouped[group] = section
        for key in by_name.values():
            grouped[key] = data[key]  # unknown: refused by extra="forbid", naming it
        return grouped

    @classmethod
    def from_env(cls, **flat: Any) -> Settings:
        """The environment's settings with some changed, by flat name (`in_process_workers=0`)."""
        return cls().replace(**flat)

    def replace(self, **flat: Any) -> Settings:
        """A validated copy with some settings changed, by flat name (`mmr_lambda=0.5`)."""
        return Settings.model_validate({**self.model_dump(), **flat})

    @cached_property
    def resolved_database_url(self) -> str:
        """The metadata database: `KB_DATABASE_URL`, else a SQLite file in `KB_DATA_DIR`."""
        if self.storage.database_url:
            url = self.storage.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.storage.data_dir / 'kb.sqlite3').resolve()}"

    @property
    def qdrant_edge_path(self) -> Path:
        return self.storage.data_dir / "qdrant-edge"


class _GroupedEnvironment(PydanticBaseSettingsSource):
    """Reads each group's `KB_*` variables from the process environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads every group at once

    def __call__(self) -> dict[str, Any]:
        assert issubclass(self.settings_cls, Settings)
        values: dict[str, dict[str, str]] = {}
        for env_name, (group, field) in self.settings_cls.env_names().items():
            if env_name in os.environ:
                values.setdefault(group, {})[field] = os.environ[env_name]
        return values


def _group_of(info: FieldInfo) -> type[Group]:
    assert isinstance(info.annotation, type) and issubclass(info.annotation, Group)
    return info.annotation


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one sentence."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        groups = Settings.groups()
        problems = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            if len(loc) >= 2 and loc[0] in groups:
                name = groups[loc[0]].env_name(loc[1])
            elif len(loc) == 1 and loc[0] in groups:
                name = f"KB_{groups[loc[0]].env_prefix.removeprefix('KB_')}*"
            else:
                name = "KB_" + "_".join(loc).upper()
            problems.append(f"{name}: {err['msg']}")
        raise ConfigurationError(f"Invalid configuration: {'; '.join(problems)}") from None
