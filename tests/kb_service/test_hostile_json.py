"""Hostile JSON: every case is a 4xx in the envelope naming the field, and nothing is stored.

Each body is sent raw (the test client would refuse to encode most of them), and after
each refusal the organization's lists, reads and filtered queries still answer 200.
Every test runs on SQLite and on PostgreSQL (whose text and JSON cannot hold U+0000).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import StatementError

from kb_service.db.content import KnowledgeBase
from kb_service.runtime import Runtime
from kb_service.settings import Settings
from kb_service.strict_json import RefusedJSON
from tests.conftest import make_settings, postgres_url_or_skip, wait_for_job
from tests.kb_service.meeting_support import create_source, event, post_event

API = "/api/v1"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The `runtime`, `client` and `admin` fixtures of this module, on each database."""
    overrides = {"database_url": postgres_url_or_skip()} if request.param == "postgresql" else {}
    return make_settings(tmp_path, **overrides)


def _post_raw(client: TestClient, path: str, raw: str | bytes, headers: dict) -> object:
    body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return client.post(f"{API}{path}", content=body, headers={**headers, **JSON})


def _refused(response: object, status: int = 422, field: str | None = None) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["success"] is False and body["data"] is None
    assert body["meta"]["code"] == ("validation_error" if status == 422 else "payload_too_large")
    if field is not None:
        assert body["meta"]["errors"][0]["field"] == field, body
        assert body["message"].startswith(f"{field}: "), body
    return body


def _organization_still_reads(client: TestClient, headers: dict) -> None:
    listed = client.get(f"{API}/knowledge-bases?limit=100", headers=headers)
    assert listed.status_code == 200, listed.text
    for kb in listed.json()["data"]:
        assert client.get(f"{API}/knowledge-bases/{kb['id']}", headers=headers).status_code == 200
        documents = client.get(f"{API}/knowledge-bases/{kb['id']}/documents", headers=headers)
        assert documents.status_code == 200, documents.text
        query = client.post(
            f"{API}/knowledge-bases/{kb['id']}/query",
            json={"query": "anything", "mode": "retrieve", "filter": {"metadata": {"k": "v"}}},
            headers=headers,
        )
        assert query.status_code == 200, query.text
    search = client.post(
        f"{API}/search",
        json={"query": "anything", "mode": "retrieve", "filter": {"metadata": {"score": 1}}},
        headers=headers,
    )
    assert search.status_code == 200, search.text


def _documents(client: TestClient, kb_id: str, headers: dict) -> list[dict]:
    return client.get(f"{API}/knowledge-bases/{kb_id}/documents", headers=headers).json()["data"]


@pytest.mark.parametrize(
    ("metadata", "field"),
    [('{"k": "\\ud800"}', "metadata.k"), ('{"\\udc00": 1}', "metadata.\\udc00")],
    ids=["in-a-value", "in-a-key"],
)
def test_lone_surrogate_in_metadata_is_refused_before_anything_is_stored(
    client: TestClient, admin: dict, metadata: str, field: str
) -> None:
    headers = admin["headers"]
    raw = '{"name": "x", "metadata": ' + metadata + "}"
    body = _refused(_post_raw(client, "/knowledge-bases", raw, headers), field=field)
    assert "lone surrogate" in body["message"]
    assert client.get(f"{API}/knowledge-bases", headers=headers).json()["data"] == []
    _organization_still_reads(client, headers)


@pytest.mark.parametrize(
    ("constant", "named"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "infinity")],
)
def test_non_finite_numbers_in_ingest_metadata_are_refused(
    client: TestClient, admin: dict, constant: str, named: str
) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    raw = (
        '{"documents": [{"text": "Rollbacks need approval.", "metadata": {"score": '
        + constant
        + "}}]}"
    )
    body = _refused(
        _post_raw(client, f"/knowledge-bases/{kb['id']}/ingest", raw, headers),
        field="documents.0.metadata.score",
    )
    assert named in body["message"] and "not allowed in JSON" in body["message"]
    assert _documents(client, kb["id"], headers) == []
    _organization_still_reads(client, headers)


def test_nan_in_multipart_metadata_field_is_refused(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    response = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        files={"files": ("a.txt", b"Rollbacks need approval.", "text/plain")},
        data={"metadata": '{"score": NaN}'},
        headers=headers,
    )
    _refused(response, field="metadata.score")
    assert _documents(client, kb["id"], headers) == []
    _organization_still_reads(client, headers)


@pytest.mark.parametrize(
    ("raw", "field", "status"),
    [
        ('{"name": "x", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}", None, 422),
        ('{"name": "x", "metadata": {"n": ' + "9" * 5000 + "}}", "metadata.n", 422),
        ('{"name": "x", "metadata": {"n": 9223372036854775808}}', "metadata.n", 422),
        ('{"name": "x", "metadata": {"k": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}}", "", 422),
        ('{"name": "x", "metadata": {"k": ' + '{"a": ' * 16 + "1" + "}" * 16 + "}}", "", 422),
        ('{"name": "x", "metadata": {"k": "a\\u0000b"}}', "metadata.k", 422),
        ('{"name": "x", "metadata": {"k": "' + "x" * 70_000 + '"}}', "metadata", 413),
    ],
    ids=[
        "nested-100000",
        "int-5000-digits",
        "int-beyond-64-bits",
        "metadata-nested-900",
        "metadata-nested-17",
        "nul-character",
        "metadata-over-64KiB",
    ],
)
def test_absurd_json_is_a_clear_4xx(
    client: TestClient, admin: dict, raw: str, field: str | None, status: int
) -> None:
    headers = admin["headers"]
    body = _refused(_post_raw(client, "/knowledge-bases", raw, headers), status=status)
    (error,) = body["meta"]["errors"]
    if field == "":  # a deep path: it starts at the nested key
        assert error["field"].startswith("metadata.k.a.a") and "levels deep" in body["message"]
    else:
        assert error["field"] == field
    assert client.get(f"{API}/knowledge-bases", headers=headers).json()["data"] == []
    _organization_still_reads(client, headers)


def test_hostile_signed_meeting_callbacks_are_a_clear_422(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    project = client.post(f"{API}/projects", json={"name": "P"}, headers=headers).json()["data"]
    source = create_source(client, headers, project_id=project["id"])
    deep = (
        '{"type": "segment_finalized", "meetingId": "m1", "sequence": 1, "timestamp": 1, '
        '"payload": ' + "[" * 50_000 + "]" * 50_000 + "}"
    ).encode()
    assert "levels deep" in _refused(post_event(client, source, deep))["message"]
    surrogate = (
        b'{"type": "segment_finalized", "meetingId": "m1", "sequence": 1, "timestamp": 1, '
        b'"payload": {"speaker": "Ana", "text": "hi \\udc00", "timestamp": 1.0}}'
    )
    _refused(post_event(client, source, surrogate), field="payload.text")
    # No meeting was opened and no (meetingId, sequence) recorded: the same sequence,
    # well-formed, is accepted (not a duplicate) and opens the project's only meeting.
    meetings = client.get(f"{API}/projects/{project['id']}/meetings", headers=headers)
    assert meetings.status_code == 200 and meetings.json()["data"] == []
    fine = event("segment_finalized", "m1", 1, speaker="Ana", text="hi", timestamp=1.0)
    accepted = post_event(client, source, fine)
    assert accepted.status_code == 200 and accepted.json()["data"]["result"] == "accepted"
    (meeting,) = client.get(f"{API}/projects/{project['id']}/meetings", headers=headers).json()[
        "data"
    ]
    assert meeting["id"] == accepted.json()["data"]["meeting_id"]
    assert meeting["segment_count"] == 1


def test_a_valid_document_still_ingests_after_the_refusals(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    _refused(
        _post_raw(
            client,
            f"/knowledge-bases/{kb['id']}/ingest",
            '{"documents": [{"text": "a", "metadata": {"score": NaN}}]}',
            headers,
        )
    )
    ok = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": "Rollbacks need approval.", "metadata": {"score": 0.5}}]},
        headers=headers,
    )
    assert wait_for_job(client, ok.json()["data"]["id"], headers)["status"] == "completed"
    _organization_still_reads(client, headers)


def test_every_json_body_route_refuses_nan_naming_the_field(client: TestClient) -> None:
    """A router without `StrictJsonRoute` would let FastAPI parse NaN (or answer a bare 400)."""
    spec = client.get("/openapi.json").json()
    checked = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            if "application/json" not in content or "/meetings/events/" in path:
                continue  # signed callbacks check the signature first (test above)
            url = path.replace("{", "x_").replace("}", "")
            response = client.request(
                method.upper(), url, content=b'{"hostile": NaN}', headers=JSON
            )
            _refused(response, field="hostile")
            checked.append((method, path))
    assert len(checked) >= 10


def test_a_value_no_check_caught_fails_before_commit(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    """The JSON columns' serialiser refuses what could not be read back, so nothing commits."""
    for poison in (float("nan"), "\ud800", 2**64, "a\x00b"):
        # SQLAlchemy wraps the serialiser's error on SQLite; psycopg calls it while it
        # sends the statement, and the error arrives as it is.
        with (
            pytest.raises((StatementError, RefusedJSON)) as raised,
            runtime.db.session() as session,
        ):
            session.add(
                KnowledgeBase(
                    organization_id=admin["organization_id"],
                    name="written behind the API's back",
                    chunk_max_tokens=200,
                    chunk_overlap_tokens=30,
                    metadata_={"k": [poison]},
                )
            )
        error = raised.value
        assert isinstance(getattr(error, "orig", error), RefusedJSON), error
    assert client.get(f"{API}/knowledge-bases", headers=admin["headers"]).json()["data"] == []
    _organization_still_reads(client, admin["headers"])


def test_metadata_filters_find_keys_json_escapes(client: TestClient, admin: dict) -> None:
    """SQLite's JSON path compares a key with its stored (escaped) text: "équipe" is stored as "\\u00e9quipe"."""
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    metadata = {"équipe": "ops", 'say "hi"': "yes", "back\\slash": "b", "line\nbreak": "n"}
    job = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": "Rollbacks need approval.", "metadata": metadata}]},
        headers=headers,
    ).json()["data"]
    document_id = wait_for_job(client, job["id"], headers)["documents"][0]["document_id"]
    for key, value in metadata.items():
        for condition in (value, {"in": [value, "other"]}):
            found = client.post(
                f"{API}/knowledge-bases/{kb['id']}/query",
                json={
                    "query": "rollback",
                    "mode": "retrieve",
                    "filter": {"metadata": {key: condition}},
                },
                headers=headers,
            ).json()["data"]
            assert [c["document_id"] for c in found["chunks"]] == [document_id], (key, found)


def test_a_patch_with_a_null_name_is_refused_not_a_500(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    patched = client.patch(
        f"{API}/knowledge-bases/{kb['id']}", json={"name": None}, headers=headers
    )
    _refused(patched)
    assert patched.json()["meta"]["errors"][0]["field"] == "name"
    read = client.get(f"{API}/knowledge-bases/{kb['id']}", headers=headers).json()["data"]
    assert read["name"] == "x"
