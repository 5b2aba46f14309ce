"""The web source routes: envelope, roles, organization scoping, validation, paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.embedding import Embedder
from tests.conftest import new_key
from tests.kb_service.sources.source_support import API, add_source, new_kb, source_env


@pytest.fixture
def env(tmp_path: Path, embedder: Embedder) -> Iterator[Any]:
    with source_env(tmp_path, embedder) as found:
        yield found


def test_sources_are_created_listed_read_and_deleted(env: Any) -> None:
    _, client, headers = env
    kb_id = new_kb(client, headers)
    body = {
        "type": "sitemap",
        "url": "http://127.0.0.1:9/sitemap.xml",
        "schedule": {"interval_minutes": 30},
        "include": ["/docs/*"],
        "exclude": ["*.pdf"],
        "max_pages": 25,
    }
    created = client.post(f"{API}/knowledge-bases/{kb_id}/sources", json=body, headers=headers)
    assert created.status_code == 201, created.text
    envelope = created.json()
    assert envelope["success"] is True and envelope["message"] is None
    source = envelope["data"]
    assert source["id"].startswith("src_")
    assert source["schedule"] == {"interval_minutes": 30} and source["max_pages"] == 25
    assert source["include"] == ["/docs/*"] and source["exclude"] == ["*.pdf"]
    assert source["next_run_at"] is not None  # the first slot is at creation
    others = [
        add_source(client, headers, kb_id, type="url", url=f"http://127.0.0.1:9/{n}/")
        for n in range(3)
    ]
    assert others[0]["max_pages"] == 500 and others[0]["next_run_at"] is None

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        listed = client.get(
            f"{API}/knowledge-bases/{kb_id}/sources", params=params, headers=headers
        ).json()
        seen += [s["id"] for s in listed["data"]]
        cursor = listed["meta"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [source["id"], *(o["id"] for o in others)]

    read = client.get(f"{API}/sources/{source['id']}", headers=headers)
    assert read.status_code == 200 and read.json()["data"]["url"] == body["url"]
    sync = client.post(f"{API}/sources/{source['id']}/sync", headers=headers)
    assert sync.status_code == 202
    job = sync.json()["data"]
    assert job["id"].startswith("job_") and job["status"] == "queued"
    assert job["trigger"] == "manual" and job["counts"]["fetched"] == 0
    # asking again while it is queued returns the same sync
    again = client.post(f"{API}/sources/{source['id']}/sync", headers=headers)
    assert again.json()["data"]["id"] == job["id"]
    assert (
        client.get(f"{API}/sources/{source['id']}", headers=headers).json()["data"]["last_sync"][
            "id"
        ]
        == job["id"]
    )

    deleted = client.delete(f"{API}/sources/{source['id']}", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["data"] == {
        "id": source["id"],
        "deleted": True,
    }
    gone = client.get(f"{API}/sources/{source['id']}", headers=headers)
    assert gone.status_code == 404 and gone.json()["meta"]["code"] == "not_found"


def test_writers_manage_sources_readers_only_read_and_other_orgs_see_nothing(env: Any) -> None:
    runtime, client, headers = env
    kb_id = new_kb(client, headers)
    source = add_source(client, headers, kb_id, type="url", url="http://127.0.0.1:9/")
    reader = {"X-API-Key": new_key(runtime, role="reader")["key"]}
    writer = {"X-API-Key": new_key(runtime, role="writer")["key"]}
    stranger = {"X-API-Key": new_key(runtime, org="globex")["key"]}
    body = {"type": "url", "url": "http://127.0.0.1:9/a/"}

    assert client.get(f"{API}/sources/{source['id']}", headers=reader).status_code == 200
    for method, path in [
        ("post", f"/knowledge-bases/{kb_id}/sources"),
        ("post", f"/sources/{source['id']}/sync"),
        ("delete", f"/sources/{source['id']}"),
    ]:
        sent = body if path.endswith("/sources") else None
        response = client.request(method, API + path, json=sent, headers=reader)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["meta"]["code"] == "forbidden"
    assert (
        client.post(f"{API}/knowledge-bases/{kb_id}/sources", json=body, headers=writer).status_code
        == 201
    )
    assert client.post(f"{API}/sources/{source['id']}/sync", headers=writer).status_code == 202

    for method, path in [
        ("get", f"/sources/{source['id']}"),
        ("get", f"/sources/{source['id']}/syncs"),
        ("post", f"/sources/{source['id']}/sync"),
        ("delete", f"/sources/{source['id']}"),
        ("get", f"/knowledge-bases/{kb_id}/sources"),
        ("post", f"/knowledge-bases/{kb_id}/sources"),
    ]:
        sent = body if path.endswith("/sources") and method == "post" else None
        response = client.request(method, API + path, json=sent, headers=stranger)
        assert response.status_code == 404, (path, response.text)


def test_bad_sources_are_refused_with_field_errors(env: Any, tmp_path: Path) -> None:
    _, client, headers = env
    kb_id = new_kb(client, headers)
    path = f"{API}/knowledge-bases/{kb_id}/sources"
    for body in [
        {"type": "feed", "url": "http://127.0.0.1:9/"},
        {"type": "url", "url": "ftp://127.0.0.1/x"},
        {"type": "url", "url": "http://127.0.0.1:9/", "max_pages": 0},
        {"type": "url", "url": "http://127.0.0.1:9/", "schedule": {"interval_minutes": 0}},
        {"type": "url", "url": "http://127.0.0.1:9/", "unknown": 1},
    ]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["meta"]["code"] == "validation_error"


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, embedder: Embedder) -> None:
    with source_env(tmp_path, embedder, webhook_allow_private=False) as (_, client, headers):
        kb_id = new_kb(client, headers)
        response = client.post(
            f"{API}/knowledge-bases/{kb_id}/sources",
            json={"type": "sitemap", "url": "http://127.0.0.1:9/sitemap.xml"},
            headers=headers,
        )
        assert response.status_code == 422
        assert "KB_WEBHOOK_ALLOW_PRIVATE" in response.json()["message"]
        assert response.json()["meta"]["errors"][0]["field"] == "url"


def test_creating_a_source_is_idempotent(env: Any) -> None:
    _, client, headers = env
    kb_id = new_kb(client, headers)
    body = {"type": "url", "url": "http://127.0.0.1:9/"}
    keyed = {**headers, "Idempotency-Key": "source-1"}
    first = client.post(f"{API}/knowledge-bases/{kb_id}/sources", json=body, headers=keyed)
    second = client.post(f"{API}/knowledge-bases/{kb_id}/sources", json=body, headers=keyed)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.content == first.content
    listed = client.get(f"{API}/knowledge-bases/{kb_id}/sources", headers=headers).json()
    assert len(listed["data"]) == 1
