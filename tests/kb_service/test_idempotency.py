"""Idempotency-Key on POST: byte-for-byte replay, reuse detection, exactly-once under races."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kb_service.api.app import create_app
from kb_service.api.idempotency import request_hash
from kb_service.db.base import utcnow
from kb_service.db.content import KnowledgeBase
from kb_service.db.idempotency import IdempotencyRecord
from kb_service.db.jobs import IngestJob
from kb_service.runtime import Runtime
from kb_service.services import idempotency as records
from kb_service.services.idempotency_seal import ResponseSeal
from kb_service.services.keys import Principal
from tests.conftest import make_settings, new_key, postgres_url_or_skip
from tests.kb_service.live_servers import serve_app

KBS = "/api/v1/knowledge-bases"


def kb_count(runtime: Runtime, name: str) -> int:
    with runtime.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(KnowledgeBase).where(KnowledgeBase.name == name)
        )


def test_repeat_replays_the_first_response_byte_for_byte(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = {**admin["headers"], "Idempotency-Key": "create-handbook"}
    first = client.post(KBS, json={"name": "Handbook"}, headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    time.sleep(0.01)
    again = client.post(KBS, json={"name": "Handbook"}, headers=headers)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert kb_count(runtime, "Handbook") == 1


def test_a_replay_passes_the_callers_checks_and_needs_the_first_callers_role(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = {**admin["headers"], "Idempotency-Key": "new-key"}
    first = client.post("/api/v1/api-keys", json={"role": "admin"}, headers=headers)
    assert first.status_code == 201 and first.json()["data"]["key"].startswith("sk_")
    reader = new_key(runtime, role="reader")
    stolen = client.post(
        "/api/v1/api-keys",
        json={"role": "admin"},
        headers={"X-API-Key": reader["key"], "Idempotency-Key": "new-key"},
    )
    assert stolen.status_code == 403 and stolen.json()["meta"]["code"] == "forbidden"
    assert "sk_" not in stolen.text and "idempotent-replayed" not in stolen.headers
    wrong_org = client.post(
        "/api/v1/api-keys",
        json={"role": "admin"},
        headers={**headers, "X-Organization-Id": "org_someoneelse"},
    )
    assert wrong_org.status_code == 403 and "sk_" not in wrong_org.text
    # another admin of the organization may replay it (the key is per organization)
    other_admin = new_key(runtime, role="admin")
    again = client.post(
        "/api/v1/api-keys",
        json={"role": "admin"},
        headers={"X-API-Key": other_admin["key"], "Idempotency-Key": "new-key"},
    )
    assert again.status_code == 201 and again.content == first.content


def test_same_key_with_another_body_or_path_is_refused(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = {**admin["headers"], "Idempotency-Key": "k-1"}
    assert client.post(KBS, json={"name": "A"}, headers=headers).status_code == 201
    other = client.post(KBS, json={"name": "B"}, headers=headers)
    assert other.status_code == 422
    body = other.json()
    assert body["success"] is False and body["meta"]["code"] == "idempotency_key_reused"
    assert body["meta"]["request_id"] == other.headers["x-request-id"]
    elsewhere = client.post("/api/v1/api-keys", json={"role": "reader"}, headers=headers)
    assert (
        elsewhere.status_code == 422
        and elsewhere.json()["meta"]["code"] == "idempotency_key_reused"
    )
    assert kb_count(runtime, "B") == 0


def test_keys_are_scoped_to_the_organization(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    other = new_key(runtime, org="globex")
    for key in (admin["key"], other["key"]):
        response = client.post(
            KBS, json={"name": "Shared"}, headers={"X-API-Key": key, "Idempotency-Key": "same"}
        )
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert kb_count(runtime, "Shared") == 2


def test_multipart_ingest_is_covered_even_with_a_new_boundary(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    kb = client.post(KBS, json={"name": "Uploads"}, headers=admin["headers"]).json()["data"]
    url = f"{KBS}/{kb['id']}/ingest"
    files = [("files", ("notes.txt", b"The VPN profile expires every 90 days."))]
    headers = {**admin["headers"], "Idempotency-Key": "upload-1"}
    # httpx picks a fresh random multipart boundary for every request.
    first = client.post(url, files=files, data={"metadata": '{"team": "ops"}'}, headers=headers)
    again = client.post(url, files=files, data={"metadata": '{"team": "ops"}'}, headers=headers)
    assert first.status_code == 202, first.text
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    changed = client.post(
        url, files=[("files", ("notes.txt", b"different bytes"))], headers=headers
    )
    assert changed.status_code == 422 and changed.json()["meta"]["code"] == "idempotency_key_reused"
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 1


def test_a_4xx_is_replayed_and_an_unauthenticated_request_is_not_recorded(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = {**admin["headers"], "Idempotency-Key": "bad-then-good"}
    invalid = client.post(KBS, json={"name": ""}, headers=headers)
    assert invalid.status_code == 422
    # a 4xx is a final answer for this body, replayed as such
    assert (
        client.post(KBS, json={"name": ""}, headers=headers).headers.get("idempotent-replayed")
        == "true"
    )
    unauthenticated = client.post(KBS, json={"name": "X"}, headers={"Idempotency-Key": "anon"})
    assert unauthenticated.status_code == 401
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_a_callers_own_refusal_is_not_replayed_to_a_stronger_key(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    reader = new_key(runtime, role="reader")
    headers = {"Idempotency-Key": "reader-first"}
    refused = client.post(
        KBS, json={"name": "Ops"}, headers={**headers, "X-API-Key": reader["key"]}
    )
    assert refused.status_code == 403 and refused.json()["meta"]["code"] == "forbidden"
    # a 403 depends on the caller, not on the request: the admin's request runs
    created = client.post(KBS, json={"name": "Ops"}, headers={**headers, **admin["headers"]})
    assert created.status_code == 201, created.text
    assert "idempotent-replayed" not in created.headers
    assert kb_count(runtime, "Ops") == 1
    again = client.post(KBS, json={"name": "Ops"}, headers={**headers, **admin["headers"]})
    assert again.headers["idempotent-replayed"] == "true" and again.content == created.content


def test_in_flight_duplicate_gets_409_after_waiting(tmp_path: Path, embedder) -> None:
    runtime = Runtime.build(
        make_settings(tmp_path, idempotency_wait_seconds=0.3), embedder=embedder
    )
    try:
        key = new_key(runtime)
        body = b'{"name":"Slow"}'
        records.claim(
            runtime.db,
            seal=ResponseSeal(runtime.secret_key),
            principal=Principal(key["organization_id"], key["key_id"], "admin"),
            key="busy",
            method="POST",
            path=KBS,
            request_hash=request_hash("application/json", KBS, body),
            now=utcnow(),
            ttl=timedelta(hours=24),
        )
        with TestClient(create_app(runtime=runtime)) as client:
            started = time.monotonic()
            response = client.post(
                KBS,
                content=body,
                headers={
                    "X-API-Key": key["key"],
                    "Idempotency-Key": "busy",
                    "content-type": "application/json",
                },
            )
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 409 and response.json()["meta"]["code"] == "conflict"
        assert response.headers["retry-after"] == "1"
        assert kb_count(runtime, "Slow") == 0
    finally:
        runtime.close()


def test_expired_records_are_purged_and_the_key_can_be_reused(tmp_path: Path, embedder) -> None:
    runtime = Runtime.build(
        make_settings(tmp_path, idempotency_ttl_hours=1 / 3600), embedder=embedder
    )
    try:
        key = new_key(runtime)
        headers = {"X-API-Key": key["key"], "Idempotency-Key": "short-lived"}
        with TestClient(create_app(runtime=runtime)) as client:
            assert client.post(KBS, json={"name": "One"}, headers=headers).status_code == 201
            time.sleep(1.1)
            second = client.post(KBS, json={"name": "Two"}, headers=headers)
            assert second.status_code == 201 and "idempotent-replayed" not in second.headers
        assert records.purge_expired(runtime.db, now=utcnow() + timedelta(seconds=2)) == 1
        with runtime.db.session() as session:
            assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    finally:
        runtime.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sixteen_concurrent_duplicates_create_exactly_one_object(
    backend: str, tmp_path: Path, embedder
) -> None:
    overrides = {"database_url": postgres_url_or_skip()} if backend == "postgresql" else {}
    runtime = Runtime.build(make_settings(tmp_path, **overrides), embedder=embedder)
    try:
        key = new_key(runtime)
        with serve_app(create_app(runtime=runtime)) as base_url:
            barrier = threading.Barrier(16)
            responses: list[httpx.Response] = []
            lock = threading.Lock()

            def post() -> None:
                with httpx.Client(base_url=base_url, timeout=30) as http:
                    barrier.wait()
                    response = http.post(
                        KBS,
                        json={"name": "Raced"},
                        headers={"X-API-Key": key["key"], "Idempotency-Key": "race-1"},
                    )
                with lock:
                    responses.append(response)

            threads = [threading.Thread(target=post) for _ in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert kb_count(runtime, "Raced") == 1
        assert [r.status_code for r in responses] == [201] * 16
        assert len({r.content for r in responses}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 15
    finally:
        runtime.close()
