"""Idempotency records at rest: no secret and no Idempotency-Key readable from a database dump."""

from __future__ import annotations

import secrets
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from kb_service.api.app import create_app
from kb_service.db.database import MIGRATIONS_DIR, Database
from kb_service.db.models import Base
from kb_service.runtime import Runtime
from kb_service.secret_key import SECRET_FILE, server_secret
from kb_service.settings import ConfigurationError, Settings, load_settings
from tests.conftest import make_settings, new_key, postgres_url_or_skip

API = "/api/v1"


def dump(runtime: Runtime) -> str:
    """Every column of every idempotency record, as text (bytes in every likely spelling)."""
    parts: list[str] = []
    with runtime.db.engine.connect() as connection:
        for row in connection.execute(text("SELECT * FROM idempotency_records")):
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    value = bytes(value)
                    parts += [value.decode("latin-1"), value.hex()]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def _rotated(client: TestClient, headers: dict[str, str]) -> str:
    hook = client.post(
        f"{API}/webhooks", json={"url": "https://hooks.example.com/kb"}, headers=headers
    )
    return f"{API}/webhooks/{hook.json()['data']['id']}/rotate-secret"


SECRET_RESPONSES: dict[str, tuple[Callable[[TestClient, dict[str, str]], str], Any, str]] = {
    "api key": (lambda c, h: f"{API}/api-keys", {"role": "reader"}, "key"),
    "webhook": (lambda c, h: f"{API}/webhooks", {"url": "https://hooks.example.com/kb"}, "secret"),
    "rotated webhook secret": (_rotated, None, "secret"),
    "meeting source": (lambda c, h: f"{API}/meeting-sources", {"name": "Sasha"}, "signing_secret"),
}


@pytest.mark.parametrize("case", SECRET_RESPONSES)
def test_a_new_secret_is_replayed_but_never_stored_readably(
    case: str, client: TestClient, admin: dict, runtime: Runtime
) -> None:
    path_of, body, field = SECRET_RESPONSES[case]
    path = path_of(client, admin["headers"])
    idempotency_key = "retry-" + secrets.token_hex(8)
    headers = {**admin["headers"], "Idempotency-Key": idempotency_key}
    first = client.post(path, json=body, headers=headers)
    assert first.status_code in (200, 201), first.text
    secret = first.json()["data"][field]
    assert secret.startswith(("sk_", "whsec_", "ss_"))
    stored = dump(runtime)
    assert stored, "the response was not recorded at all"
    for needle in (secret, secret.encode().hex(), idempotency_key, idempotency_key.encode().hex()):
        assert needle not in stored
    again = client.post(path, json=body, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.status_code == first.status_code and again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]


def test_a_tampered_record_is_not_replayed_the_request_runs(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = {**admin["headers"], "Idempotency-Key": "tamper-me"}
    first = client.post(f"{API}/knowledge-bases", json={"name": "Sealed"}, headers=headers)
    assert first.status_code == 201
    with runtime.db.engine.begin() as connection:
        (sealed,) = connection.execute(
            text("SELECT sealed_response FROM idempotency_records")
        ).one()
        flipped = bytes(sealed[:-1]) + bytes([sealed[-1] ^ 1])
        connection.execute(
            text("UPDATE idempotency_records SET sealed_response = :s"), {"s": flipped}
        )
    again = client.post(f"{API}/knowledge-bases", json={"name": "Sealed"}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["data"]["id"] != first.json()["data"]["id"]
    replay = client.post(f"{API}/knowledge-bases", json={"name": "Sealed"}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == again.content


def test_another_server_secret_cannot_find_or_read_the_records(tmp_path: Path, embedder) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    made: list[bytes] = []
    for n, secret_key in enumerate(("a" * 32, "b" * 32)):
        settings = make_settings(
            tmp_path / str(n), database_url=database_url, secret_key=secret_key
        )
        runtime = Runtime.build(settings, embedder=embedder)
        try:
            key = new_key(runtime)
            with TestClient(create_app(runtime=runtime)) as client:
                response = client.post(
                    f"{API}/knowledge-bases",
                    json={"name": "Twice"},
                    headers={"X-API-Key": key["key"], "Idempotency-Key": "same"},
                )
            assert response.status_code == 201 and "idempotent-replayed" not in response.headers
            made.append(response.content)
        finally:
            runtime.close()
    assert made[0] != made[1]


def test_the_server_secret_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = server_secret(settings)
    path = settings.storage.data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and server_secret(make_settings(tmp_path)) == first
    assert path.read_bytes().strip() == first
    given = make_settings(tmp_path / "other", secret_key="k" * 40)
    assert server_secret(given) == b"k" * 40
    assert not (given.storage.data_dir / SECRET_FILE).exists()


def test_a_short_secret_key_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_SECRET_KEY", "too-short")
    with pytest.raises(ConfigurationError, match="KB_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("KB_SECRET_KEY", "")  # empty means unset
    assert Settings().api.secret_key is None


def _alembic(db: Database, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0003_deletes_plaintext_records_and_matches_the_models(
    backend: str, tmp_path: Path
) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    try:
        _alembic(db, "upgrade", "0002")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO idempotency_records (id, organization_id, key, method, path,"
                    " request_hash, role, state, response_status, response_body, created_at,"
                    " expires_at) VALUES ('idem_1', 'org_1', 'plain-key', 'POST', '/api/v1/api-keys',"
                    " :hash, 'admin', 'completed', 201, :body, :now, :now)"
                ),
                {"hash": "0" * 64, "body": b'{"key":"sk_plaintext"}', "now": datetime(2026, 1, 1)},
            )
        db.migrate()
        with db.engine.connect() as connection:
            assert (
                connection.execute(text("SELECT count(*) FROM idempotency_records")).scalar() == 0
            )
            columns = {c["name"] for c in inspect(connection).get_columns("idempotency_records")}
            assert {"key_hash", "sealed_response"} <= columns
            assert not columns & {"key", "response_headers", "response_body"}
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        _alembic(db, "downgrade", "0002")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("idempotency_records")}
            assert {"key", "response_body"} <= columns and "key_hash" not in columns
        db.migrate()
    finally:
        db.dispose()
