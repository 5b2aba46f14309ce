"""Cursor pagination: stable under concurrent inserts and deletes; bad cursors are 422."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from kb_service.api.app import create_app
from kb_service.db.base import utcnow
from kb_service.db.content import KnowledgeBase
from kb_service.runtime import Runtime
from tests.conftest import make_settings, new_key, postgres_url_or_skip

KBS = "/api/v1/knowledge-bases"


def add_kbs(runtime: Runtime, organization_id: str, names: list[str]) -> list[str]:
    with runtime.db.session() as session:
        rows = [
            KnowledgeBase(
                organization_id=organization_id,
                name=name,
                chunk_max_tokens=200,
                chunk_overlap_tokens=20,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            for name in names
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_inserts_and_deletes_never_duplicate_or_skip(
    backend: str, tmp_path: Path, embedder
) -> None:
    overrides = {"database_url": postgres_url_or_skip()} if backend == "postgresql" else {}
    runtime = Runtime.build(
        make_settings(tmp_path, rate_limit_enabled=False, **overrides), embedder=embedder
    )
    try:
        key = new_key(runtime)
        org = key["organization_id"]
        stable = set(add_kbs(runtime, org, [f"stable-{i}" for i in range(60)]))
        doomed = add_kbs(runtime, org, [f"doomed-{i}" for i in range(60)])
        stop = threading.Event()

        def churn() -> None:
            # Bounded, or the pager would chase rows appended at the end forever.
            for n in range(120):
                if stop.wait(0.005):
                    return
                add_kbs(runtime, org, [f"new-{n}"])
                if doomed:
                    with runtime.db.session() as session:
                        victim = doomed.pop(len(doomed) // 2)
                        session.execute(delete(KnowledgeBase).where(KnowledgeBase.id == victim))

        with TestClient(create_app(runtime=runtime)) as client:
            mutator = threading.Thread(target=churn)
            mutator.start()
            try:
                for _ in range(3):
                    seen: list[str] = []
                    cursor = None
                    while True:
                        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
                        body = client.get(
                            KBS, params=params, headers={"X-API-Key": key["key"]}
                        ).json()
                        assert body["success"] is True and len(body["data"]) <= 7
                        seen += [kb["id"] for kb in body["data"]]
                        cursor = body["meta"]["next_cursor"]
                        if cursor is None:
                            break
                    assert len(seen) == len(set(seen)), "a row was returned twice"
                    assert stable <= set(seen), "a row that existed throughout was skipped"
            finally:
                stop.set()
                mutator.join()
    finally:
        runtime.close()


def test_limits_and_tampered_cursors(client: TestClient, admin: dict, runtime: Runtime) -> None:
    headers = admin["headers"]
    add_kbs(runtime, admin["organization_id"], [f"kb-{i}" for i in range(25)])
    default = client.get(KBS, headers=headers).json()
    assert len(default["data"]) == 20 and default["meta"]["next_cursor"]
    for bad_limit in (0, 101, -1):
        assert client.get(KBS, params={"limit": bad_limit}, headers=headers).status_code == 422
    cursor = default["meta"]["next_cursor"]
    rest = client.get(KBS, params={"cursor": cursor}, headers=headers).json()
    assert len(rest["data"]) == 5 and rest["meta"]["next_cursor"] is None

    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged_id = [decoded[0], "kb_" + "0" * 24, decoded[2]]
    forged_time = ["0001-01-01T00:00:00+14:00", decoded[1], decoded[2]]
    tampered = [
        cursor[:-2],
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        "not-a-cursor",
        "%%%",
        "x" * 1000,
        *(
            base64.urlsafe_b64encode(json.dumps(v).encode()).decode()
            for v in (forged_id, forged_time, [1, 2, 3], {"a": 1})
        ),
    ]
    for bad in tampered:
        response = client.get(KBS, params={"cursor": bad}, headers=headers)
        assert response.status_code == 422, (bad, response.text)
        body = response.json()
        assert (
            body["meta"]["code"] == "validation_error"
            and body["meta"]["errors"][0]["field"] == "cursor"
        )
