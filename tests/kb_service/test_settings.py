"""Settings: grouped by concern, read from the documented `KB_*` variables, one sentence on error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from kb_service.cli.mcp import API_KEY_VARIABLE
from kb_service.settings import ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_each_variable_is_read_into_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_WEBHOOK_TIMEOUT_SECONDS", "3.5")
    monkeypatch.setenv("KB_IN_PROCESS_WORKERS", "4")
    monkeypatch.setenv("KB_EMBEDDING_BATCH_SIZE", "32")
    monkeypatch.setenv("KB_MEETING_CALLBACK_TOLERANCE_SECONDS", "0")
    monkeypatch.setenv("KB_SECRET_KEY", "s" * 40)
    settings = load_settings()
    assert settings.webhooks.timeout_seconds == 3.5
    assert settings.ingest.in_process_workers == 4
    assert settings.embedding.batch_size == 32
    assert settings.meetings.callback_tolerance_seconds == 0
    assert settings.api.secret_key is not None
    assert settings.api.secret_key.get_secret_value() == "s" * 40


def test_flat_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_IN_PROCESS_WORKERS", "4")
    monkeypatch.setenv("KB_MMR_LAMBDA", "0.2")
    settings = Settings.from_env(in_process_workers=0, data_dir="/srv/kb")
    assert settings.ingest.in_process_workers == 0
    assert settings.retrieval.mmr_lambda == 0.2
    assert settings.storage.data_dir == Path("/srv/kb")
    changed = settings.replace(mmr_lambda=0.9)
    assert changed.retrieval.mmr_lambda == 0.9 and settings.retrieval.mmr_lambda == 0.2
    with pytest.raises(ValidationError):
        settings.replace(mmr_lambda=7)  # replace validates like the environment does


def test_an_unknown_name_is_refused_not_ignored() -> None:
    with pytest.raises(ValidationError, match="in_proces_workers"):
        Settings.from_env(in_proces_workers=2)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KB_RRF_K", "ten", r"^Invalid configuration: KB_RRF_K: Input should be a valid integer"),
        ("KB_DATABASE_URL", "mysql://db", "KB_DATABASE_URL must be a sqlite:// or postgresql://"),
        ("KB_WEBHOOK_CONCURRENCY", "0", "KB_WEBHOOK_CONCURRENCY: Input should be greater"),
        ("KB_LLM_BASE_URL", "http://llm", "KB_LLM_MODEL is not: name the chat model"),
        ("KB_SECRET_KEY", "short", "KB_SECRET_KEY must be at least 32 characters"),
    ],
)
def test_an_invalid_variable_is_named_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_every_variable_is_documented_in_the_readme_and_every_documented_one_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"\bKB_[A-Z0-9_]*[A-Z0-9]\b", readme)) - {"KB_TEST_POSTGRES_URL"}
    known = set(Settings.env_names()) | {API_KEY_VARIABLE}  # `kb-service mcp` reads it
    assert known - documented == set(), "settings missing from README"
    assert documented - known == set(), "README names settings the code does not read"
