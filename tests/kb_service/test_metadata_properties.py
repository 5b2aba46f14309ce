"""Property: arbitrary JSON-ish metadata through every write route is refused (4xx) exactly
when it breaks the strict-JSON rule, never answers 5xx, and what is accepted reads back
equal through the object's GET and list routes and through a metadata-filtered query.

Values are sent as Python's `json.dumps` writes them (NaN, Infinity, `\\ud800` escapes),
which is what a careless client sends.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from tests.conftest import make_settings, new_key, wait_for_job

API = "/api/v1"
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TEXT = "Rollbacks of the payments service need an approval from the on-call lead."
_serial = itertools.count()

texts = st.text(st.characters(exclude_categories=()), max_size=12) | st.sampled_from(
    ["\ud800", "a\udfffb", "a\x00b", "équipe", "\u2028", 'say "hi"', "back\\slash", ""]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, -(2**63), 2**63, 10**25])
    | st.floats()  # nan, inf and -inf included
    | texts
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)


def _nested(depth: int) -> dict[str, Any]:
    """A metadata object `depth` levels deep (the object itself is level 1)."""
    value: Any = "bottom"
    for level in range(depth - 1):
        value = [value] if level % 2 else {"d": value}
    return {"deep": value}


metadatas = (
    st.dictionaries(texts, values, max_size=5)
    | st.integers(min_value=14, max_value=20).map(_nested)
    | st.sampled_from([{"big": "x" * 70_000}, {"big": "x" * 60_000}])
)


def _breaks_rule(value: Any, level: int = 1) -> bool:
    """The rule, written independently of `kb_service.strict_json`."""
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return not -(2**63) <= value < 2**63
    if isinstance(value, float):
        return not math.isfinite(value)
    if level > 16:
        return True
    if isinstance(value, list):
        return any(_breaks_rule(v, level + 1) for v in value)
    return any(_breaks_rule(k) or _breaks_rule(v, level + 1) for k, v in value.items())


def _expected(metadata: dict[str, Any]) -> int | None:
    """422 or 413 when the metadata must be refused, None when it must be accepted."""
    if _breaks_rule(metadata):
        return 422
    size = len(json.dumps(metadata, ensure_ascii=False).encode())
    return 413 if size > 64 * 1024 else None


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: 1, 1.0 and true are three different values."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    tmp = Path(tmp_path_factory.mktemp("metadata-properties"))
    runtime = Runtime.build(make_settings(tmp, rate_limit_enabled=False), embedder=embedder)
    runtime.start_workers(1)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            headers = {"X-API-Key": new_key(runtime)["key"]}
            kb = client.post(f"{API}/knowledge-bases", json={"name": "props"}, headers=headers)
            yield client, headers, kb.json()["data"]["id"]
    finally:
        runtime.close()


def _send(client: TestClient, method: str, path: str, body: Any, headers: dict) -> Any:
    raw = json.dumps(body).encode("utf-8")  # allow_nan, ensure_ascii: escapes stay escapes
    return client.request(
        method, f"{API}{path}", content=raw, headers={**headers, "Content-Type": "application/json"}
    )


def _check_answer(response: Any, metadata: dict[str, Any]) -> bool:
    """True when accepted; asserts the status the rule predicts (never a 5xx)."""
    expected = _expected(metadata)
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics shows the mix
    assert response.status_code < 500, response.text
    if expected is not None:
        assert response.status_code == expected, (metadata, response.text)
        assert response.json()["meta"]["errors"][0]["field"].startswith(
            ("metadata", "documents.0.metadata")
        )
        return False
    assert response.status_code in (200, 201, 202), (metadata, response.text)
    return True


def _listed(client: TestClient, path: str, object_id: str, headers: dict) -> dict[str, Any]:
    cursor = None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        page = client.get(f"{API}{path}{query}", headers=headers).json()
        for item in page["data"]:
            if item["id"] == object_id:
                return dict(item)
        cursor = page["meta"]["next_cursor"]
        assert cursor, f"{object_id} is not listed at {path}"


def _filtered_query_finds(
    client: TestClient, kb_id: str, document_id: str, metadata: dict[str, Any], headers: dict
) -> None:
    scalar = {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)}
    conditions = [{k: v} for k, v in list(scalar.items())[:2]]
    matching = bool(conditions)
    if not matching:  # nothing to filter by: a condition no document meets
        conditions = [{"absent": "x"}]
    for condition in conditions:
        response = client.post(
            f"{API}/knowledge-bases/{kb_id}/query",
            json={
                "query": "payments rollback approval",
                "mode": "retrieve",
                "top_k": 100,
                "filter": {"metadata": condition},
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        found = {c["document_id"] for c in response.json()["data"]["chunks"]}
        assert (document_id in found) is matching, (condition, found)
    search = client.post(
        f"{API}/search",
        json={"query": "payments", "mode": "retrieve", "filter": {"metadata": conditions[0]}},
        headers=headers,
    )
    assert search.status_code == 200, search.text


@given(metadata=metadatas)
@EXAMPLES
def test_knowledge_base_create_and_patch(env: Any, metadata: dict[str, Any]) -> None:
    client, headers, _ = env
    created = _send(
        client, "POST", "/knowledge-bases", {"name": "kb", "metadata": metadata}, headers
    )
    if _check_answer(created, metadata):
        kb_id = created.json()["data"]["id"]
        assert _same(created.json()["data"]["metadata"], metadata)
        read = client.get(f"{API}/knowledge-bases/{kb_id}", headers=headers).json()["data"]
        assert _same(read["metadata"], metadata)
        assert _same(_listed(client, "/knowledge-bases", kb_id, headers)["metadata"], metadata)
        assert client.delete(f"{API}/knowledge-bases/{kb_id}", headers=headers).status_code == 200
    _, _, kb_id = env
    before = client.get(f"{API}/knowledge-bases/{kb_id}", headers=headers).json()["data"]
    patched = _send(client, "PATCH", f"/knowledge-bases/{kb_id}", {"metadata": metadata}, headers)
    after = client.get(f"{API}/knowledge-bases/{kb_id}", headers=headers).json()["data"]
    if _check_answer(patched, metadata):
        assert _same(after["metadata"], metadata) and _same(patched.json()["data"], after)
    else:
        assert _same(after["metadata"], before["metadata"])


@given(metadata=metadatas)
@EXAMPLES
def test_project_create(env: Any, metadata: dict[str, Any]) -> None:
    client, headers, _ = env
    created = _send(client, "POST", "/projects", {"name": "p", "metadata": metadata}, headers)
    if _check_answer(created, metadata):
        project_id = created.json()["data"]["id"]
        read = client.get(f"{API}/projects/{project_id}", headers=headers).json()["data"]
        assert _same(read["metadata"], metadata)
        assert _same(_listed(client, "/projects", project_id, headers)["metadata"], metadata)


@given(metadata=metadatas, shared=st.booleans())
@EXAMPLES
def test_json_ingest(env: Any, metadata: dict[str, Any], shared: bool) -> None:
    client, headers, kb_id = env
    text = f"{TEXT} Record {next(_serial)}."
    body = (
        {"documents": [{"text": text}], "metadata": metadata}
        if shared
        else {"documents": [{"text": text, "metadata": metadata}]}
    )
    submitted = _send(client, "POST", f"/knowledge-bases/{kb_id}/ingest", body, headers)
    if _check_answer(submitted, metadata):
        job = wait_for_job(client, submitted.json()["data"]["id"], headers)
        assert job["status"] == "completed", job
        document_id = job["documents"][0]["document_id"]
        path = f"/knowledge-bases/{kb_id}/documents"
        read = client.get(f"{API}{path}/{document_id}", headers=headers).json()["data"]
        assert _same(read["metadata"], metadata)
        assert _same(_listed(client, path, document_id, headers)["metadata"], metadata)
        _filtered_query_finds(client, kb_id, document_id, metadata, headers)


@given(metadata=metadatas)
@EXAMPLES
def test_multipart_ingest_metadata_field(env: Any, metadata: dict[str, Any]) -> None:
    client, headers, kb_id = env
    serial = next(_serial)
    submitted = client.post(
        f"{API}/knowledge-bases/{kb_id}/ingest",
        files={"files": (f"note-{serial}.txt", f"{TEXT} Note {serial}.".encode(), "text/plain")},
        data={"metadata": json.dumps(metadata)},
        headers=headers,
    )
    if _check_answer(submitted, metadata):
        job = wait_for_job(client, submitted.json()["data"]["id"], headers)
        assert job["status"] == "completed", job
        document_id = job["documents"][0]["document_id"]
        read = client.get(
            f"{API}/knowledge-bases/{kb_id}/documents/{document_id}", headers=headers
        ).json()["data"]
        # the extracted file's own metadata (filename, format, encoding) sits beside it
        assert _same({k: read["metadata"][k] for k in metadata}, metadata)
        _filtered_query_finds(client, kb_id, document_id, metadata, headers)


@given(title=texts.filter(bool), platform=texts | st.none())
@EXAMPLES
def test_meeting_import_strings(env: Any, title: str, platform: str | None) -> None:
    """Meetings take no metadata; their free text (title, platform) follows the same rule."""
    client, headers, _ = env
    project = client.post(f"{API}/projects", json={"name": "m"}, headers=headers).json()["data"]
    body = {
        "title": title,
        "platform": platform,
        "project_id": project["id"],
        "segments": [{"speaker": "Ana", "text": "We ship on Friday.", "timestamp": 1.0}],
    }
    imported = _send(client, "POST", "/meetings", body, headers)
    assert imported.status_code < 500, imported.text
    if _breaks_rule(title) or _breaks_rule(platform):
        assert imported.status_code == 422, imported.text
        assert imported.json()["meta"]["errors"][0]["field"] in ("title", "platform")
        return
    if imported.status_code != 201:  # pydantic's own limits (e.g. platform over 100 chars)
        assert imported.status_code == 422, imported.text
        return
    meeting = imported.json()["data"]
    read = client.get(f"{API}/meetings/{meeting['id']}", headers=headers).json()["data"]
    (listed,) = client.get(f"{API}/projects/{project['id']}/meetings", headers=headers).json()[
        "data"
    ]
    for seen in (read, listed):
        assert seen["title"] == title and seen["platform"] == platform
