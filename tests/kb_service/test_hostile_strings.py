"""Hostile strings outside JSON bodies: path and query parameters, multipart headers, URLs.

Each case is one PostgreSQL refuses that SQLite takes (U+0000 in any string, even
one only compared; text longer than its VARCHAR column), so every test runs on both
databases and asserts the same answer on each: a 4xx naming the field, or a value
made safe before it is stored, and never a 500.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_service.settings import Settings
from tests.conftest import make_settings, postgres_url_or_skip, wait_for_job

API = "/api/v1"
_PARAM = re.compile(r"\{([^}]+)\}")


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The `runtime`, `client` and `admin` fixtures of this module, on each database."""
    overrides = {"database_url": postgres_url_or_skip()} if request.param == "postgresql" else {}
    return make_settings(tmp_path, **overrides)


def _fill(path: str, hostile: str) -> str:
    """`path` with `hostile` as "id" + U+0000 + "x" (percent-encoded) and the rest as "id"."""
    return _PARAM.sub(lambda m: "id%00x" if m.group(1) == hostile else "id", path)


def test_u0000_in_any_path_parameter_is_a_422_naming_it(client: TestClient, admin: dict) -> None:
    spec = client.get("/openapi.json").json()
    checked = []
    for path, item in spec["paths"].items():
        names = _PARAM.findall(path)
        for method in item:
            for hostile in names:
                url = _fill(path, hostile)
                # with an Idempotency-Key, which records the path of a POST before it runs
                response = client.request(
                    method.upper(),
                    url,
                    content=b"{}",
                    headers={
                        **admin["headers"],
                        "Content-Type": "application/json",
                        "Idempotency-Key": f"key-{len(checked)}",
                    },
                )
                assert response.status_code == 422, (method, url, response.text)
                body = response.json()
                assert body["meta"]["errors"][0]["field"] == hostile, body
                assert (
                    body["message"]
                    == f"{hostile}: U+0000 is not allowed (character 2 of the string)"
                )
                checked.append((method, path, hostile))
    assert len(checked) >= 15 and any("/meetings/events/" in p for _m, p, _h in checked)
    nowhere = client.post(
        f"{API}/nowhere%00", json={}, headers={**admin["headers"], "Idempotency-Key": "k"}
    )
    assert nowhere.status_code == 404, nowhere.text


def test_u0000_in_a_query_parameter_is_a_422_naming_it(client: TestClient, admin: dict) -> None:
    for url, field in [
        (f"{API}/knowledge-bases?limit=5&cursor=a%00", "cursor"),
        (f"{API}/knowledge-bases?unknown=%00", "unknown"),
        (f"{API}/knowledge-bases?a%00b=1", "a\\u0000b"),
    ]:
        response = client.get(url, headers=admin["headers"])
        assert response.status_code == 422, response.text
        assert response.json()["meta"]["errors"][0]["field"] == field


def _multipart(content_type: bytes, data: bytes) -> tuple[bytes, str]:
    boundary = b"hostile-boundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="files"; filename="notes.txt"\r\n'
        b"Content-Type: " + content_type + b"\r\n\r\n" + data + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    return body, "multipart/form-data; boundary=" + boundary.decode()


@pytest.mark.parametrize(
    "content_type",
    [b"text/pl\x00ain", b"text/plain; x=" + b"a" * 300, b"not a media type", b"text/plain\x7f"],
    ids=["u0000", "over-200-characters", "malformed", "control-character"],
)
def test_an_unreadable_declared_media_type_is_ignored_not_stored(
    client: TestClient, admin: dict, content_type: bytes
) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    text = b"Rollbacks of the payments service need approval from the on-call lead."
    body, multipart = _multipart(content_type, text)
    response = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        content=body,
        headers={**headers, "Content-Type": multipart},
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed", job  # detected as text from the file name
    (document,) = client.get(f"{API}/knowledge-bases/{kb['id']}/documents", headers=headers).json()[
        "data"
    ]
    read = client.get(
        f"{API}/knowledge-bases/{kb['id']}/documents/{document['id']}?include_text=true",
        headers=headers,
    ).json()["data"]
    assert read["text"] == text.decode()


@pytest.mark.parametrize(
    ("url", "length"),
    [
        ("https://example.com/" + "a" * 1981, 2001),
        ("https://example.com/" + "é" * 400, 20 + 6 * 400),  # percent-encoded: 2420
    ],
    ids=["2001-characters", "grows-when-normalised"],
)
def test_a_source_url_longer_than_stored_is_a_422_naming_it(
    client: TestClient, admin: dict, url: str, length: int
) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    response = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": "Rollbacks need approval.", "source_url": url}]},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["meta"]["errors"][0]["field"] == "documents.0.source_url"
    assert f"this URL has {length} once normalised" in body["message"]
    listed = client.get(f"{API}/knowledge-bases/{kb['id']}/documents", headers=headers)
    assert listed.status_code == 200 and listed.json()["data"] == []


def test_a_source_url_of_2000_characters_reads_back(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = client.post(f"{API}/knowledge-bases", json={"name": "x"}, headers=headers).json()["data"]
    url = "https://example.com/" + "a" * 1980
    response = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest",
        json={"documents": [{"text": "Rollbacks need approval.", "source_url": url}]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "completed", job
    (document,) = client.get(f"{API}/knowledge-bases/{kb['id']}/documents", headers=headers).json()[
        "data"
    ]
    assert document["source_url"] == url
