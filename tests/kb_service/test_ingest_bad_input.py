"""Bad input to ingestion: each gets a clear envelope error or a failed document."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from tests.conftest import SAMPLE_DOCS, make_settings, new_key, wait_for_job
from tests.kb_service.ingest_support import create_kb, sample, upload

BAD = SAMPLE_DOCS / "bad"


def test_bad_files_fail_alone_and_the_rest_of_the_batch_ingests(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    files = [
        sample("notes.txt"),
        ("corrupt.pdf", (BAD / "corrupt.pdf").read_bytes()),
        ("empty.txt", b""),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 20),
        ("binary.txt", (BAD / "binary.txt").read_bytes()),
        ("fake.docx", (BAD / "fake.docx").read_bytes()),
        ("latin1.txt", (BAD / "latin1.txt").read_bytes()),
    ]
    response = upload(client, headers, kb["id"], files)
    assert response.status_code == 202
    job = wait_for_job(client, response.json()["data"]["id"], headers)
    assert job["status"] == "partially_failed"
    outcome = {d["filename"]: d for d in job["documents"]}
    assert outcome["notes.txt"]["status"] == "indexed"
    assert outcome["latin1.txt"]["status"] == "indexed"  # non-UTF-8 text is decoded, not refused
    for name in ("corrupt.pdf", "empty.txt", "tool.exe", "binary.txt", "fake.docx"):
        assert outcome[name]["status"] == "failed", name
        error = outcome[name]["error"]
        assert error and len(error) > 15 and "Traceback" not in error, (name, error)
    assert client.get("/healthz").status_code == 200
    docs = client.get(f"/api/v1/knowledge-bases/{kb['id']}/documents", headers=headers).json()[
        "data"
    ]
    assert sorted(d["source"] for d in docs) == ["latin1.txt", "notes.txt"]
    latin = next(d for d in docs if d["source"] == "latin1.txt")
    text = client.get(
        f"/api/v1/knowledge-bases/{kb['id']}/documents/{latin['id']}?include_text=true",
        headers=headers,
    ).json()["data"]["text"]
    assert "é" in text or "ü" in text


def test_only_bad_files_make_a_failed_job_with_a_failed_event(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    job = wait_for_job(
        client,
        upload(client, headers, kb["id"], [("empty.txt", b"")]).json()["data"]["id"],
        headers,
    )
    assert job["status"] == "failed" and job["error"]
    from kb_service.db.events import Event

    with runtime.db.session() as session:
        assert [e.type for e in session.query(Event)] == ["kb.ingest.failed"]


def test_path_traversal_filename_is_neutralised(client: TestClient, admin: dict) -> None:
    headers = admin["headers"]
    kb = create_kb(client, headers)
    for evil in (
        "../../etc/passwd.txt",
        "..\\..\\windows\\win.ini.txt",
        "/abs/path/report.txt",
        "..\x00hidden.txt",
    ):
        response = upload(
            client, headers, kb["id"], [(evil, b"Some harmless text about onboarding.")]
        )
        assert response.status_code == 202
        name = response.json()["data"]["documents"][0]["filename"]
        assert "/" not in name and "\\" not in name and ".." not in name and "\x00" not in name, (
            name
        )
        wait_for_job(client, response.json()["data"]["id"], headers)


def test_unknown_kb_wrong_type_malformed_json_and_bad_metadata(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    r = upload(client, headers, "kb_doesnotexist", [sample("notes.txt")])
    assert r.status_code == 404 and r.json()["meta"]["code"] == "not_found"
    kb = create_kb(client, headers)
    url = f"/api/v1/knowledge-bases/{kb['id']}/ingest"
    r = client.post(url, content=b"hello", headers={**headers, "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["meta"]["code"] == "unsupported_media_type"
    r = client.post(
        url, content=b'{"documents": [', headers={**headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["success"] is False
    r = client.post(url, json={"documents": []}, headers=headers)
    assert r.status_code == 422 and r.json()["meta"]["errors"]
    r = client.post(url, json={"documents": [{"text": ""}]}, headers=headers)
    assert r.status_code == 422
    r = upload(client, headers, kb["id"], [sample("notes.txt")], metadata="[1,2]")
    assert r.status_code == 422 and r.json()["meta"]["errors"][0]["field"] == "metadata"
    r = client.post(url, files={"other": ("a.txt", b"x")}, headers=headers)
    assert r.status_code == 422


def test_oversize_upload_is_refused_before_the_body_is_read(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path, max_upload_mb=1)
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            headers = {"X-API-Key": new_key(runtime)["key"]}
            kb = create_kb(client, headers)
            big = b"a" * (2 * 1024 * 1024)
            r = upload(client, headers, kb["id"], [("big.txt", big)])
            assert r.status_code == 413
            assert (
                r.json()["meta"]["code"] == "payload_too_large"
                and "KB_MAX_UPLOAD_MB" in r.json()["message"]
            )
            ok = upload(client, headers, kb["id"], [("small.txt", b"small file about payroll")])
            assert ok.status_code == 202
    finally:
        runtime.close()


def test_oversize_declared_length_gets_413_without_sending_the_body(
    tmp_path: Path, embedder
) -> None:
    """A real socket: the server answers 413 after the headers alone."""
    import threading

    import uvicorn

    settings = make_settings(tmp_path, max_upload_mb=1)
    runtime = Runtime.build(settings, embedder=embedder)
    key = new_key(runtime)["key"]
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            pass
        port = server.servers[0].sockets[0].getsockname()[1]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/api/v1/knowledge-bases/kb_x/ingest")
        conn.putheader("X-API-Key", key)
        conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
        conn.putheader("Content-Length", str(500 * 1024 * 1024))
        conn.endheaders()  # no body at all
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["meta"]["code"] == "payload_too_large"
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.close()
