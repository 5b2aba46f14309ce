"""Hostile files through the real API and workers: each fails alone, the service goes on.

A zip bomb is refused before it is inflated, and so is an image that would decode to
gigabytes, with bounded memory in the serving
process and in its parser process; a DOCX of 1.5 million paragraphs hits the parse
limit while another organization's one-line ingest finishes first.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from tests.conftest import make_settings, new_key, wait_for_job
from tests.hostile_docs import docx_with_inflating_part, docx_with_paragraphs, png_bomb

SAMPLES = Path(__file__).resolve().parents[4] / "sample_docs"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PARSE_TIMEOUT = 20.0


@pytest.fixture
def service(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[Runtime, TestClient]]:
    settings = make_settings(tmp_path, parse_timeout_seconds=PARSE_TIMEOUT)
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(2)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            yield runtime, client
    finally:
        runtime.close()


def _kb(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/api/v1/knowledge-bases", json={"name": "docs"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def _upload(
    client: TestClient, headers: dict[str, str], kb_id: str, files: list[tuple[str, bytes]]
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/knowledge-bases/{kb_id}/ingest",
        files=[
            ("files", (name, data, DOCX if name.endswith(".docx") else "text/plain"))
            for name, data in files
        ],
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def _status(path: str) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident memory) of a process, in MB."""
    fields = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def test_a_1_gib_docx_bomb_is_refused_with_bounded_memory_and_the_job_goes_on(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    headers = {"X-API-Key": new_key(runtime)["key"]}
    kb_id = _kb(client, headers)
    warm = _upload(client, headers, kb_id, [("notes.txt", (SAMPLES / "notes.txt").read_bytes())])
    wait_for_job(client, warm["id"], headers)  # the parsers are warm: measure from here
    (parser,) = runtime.processor.preparer.parsers._idle
    parser_before = _status(f"/proc/{parser.process.pid}/status")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    bomb = docx_with_inflating_part(1024**3)
    job = _upload(
        client,
        headers,
        kb_id,
        [("report.docx", bomb), ("runbook.md", (SAMPLES / "runbook.md").read_bytes())],
    )
    done = wait_for_job(client, job["id"], headers)

    assert done["status"] == "partially_failed"
    report, runbook = done["documents"]
    assert report["status"] == "failed"
    assert report["error"] == (
        "report.docx inflates to 1,025 MB; the limit for the uncompressed size of a "
        "document is 512 MB."
    )
    assert runbook["status"] == "indexed"
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    parser_after = _status(f"/proc/{parser.process.pid}/status")  # the same process served it
    print(
        f"bomb of {len(bomb) / 1e6:.1f} MB: serving process peak RSS {peak_before} -> "
        f"{peak_after} MB; parser process RSS {parser_before['VmRSS']} -> "
        f"{parser_after['VmRSS']} MB, peak {parser_before['VmHWM']} -> {parser_after['VmHWM']} MB"
    )
    assert peak_after - peak_before < 100
    assert parser_after["VmHWM"] - parser_before["VmHWM"] < 100


def test_a_docx_of_1_5_million_paragraphs_fails_alone_while_another_organization_goes_first(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    a = {"X-API-Key": new_key(runtime, org="a")["key"]}
    b = {"X-API-Key": new_key(runtime, org="b")["key"]}
    a_kb, b_kb = _kb(client, a), _kb(client, b)
    huge = docx_with_paragraphs(1_500_000)
    started = time.monotonic()
    a_job = _upload(
        client, a, a_kb, [("huge.docx", huge), ("notes.txt", (SAMPLES / "notes.txt").read_bytes())]
    )
    time.sleep(1)  # A's job is claimed and its parse under way
    b_queued = time.monotonic()
    b_job = client.post(
        f"/api/v1/knowledge-bases/{b_kb}/ingest",
        json={"documents": [{"text": "The on-call phone is in the second drawer."}]},
        headers=b,
    ).json()["data"]
    b_done = wait_for_job(client, b_job["id"], b)
    b_latency = time.monotonic() - b_queued
    assert b_done["status"] == "completed"
    a_then = client.get(f"/api/v1/ingest-jobs/{a_job['id']}", headers=a).json()["data"]
    assert a_then["status"] == "running", "A's hostile file held B's one-liner back"

    a_done = wait_for_job(client, a_job["id"], a, timeout=PARSE_TIMEOUT + 240)
    failed_after = time.monotonic() - started
    assert a_done["status"] == "partially_failed"
    huge_item, notes = a_done["documents"]
    assert huge_item["status"] == "failed"
    assert huge_item["error"] in (
        f"huge.docx: parsing took longer than {PARSE_TIMEOUT:g} s, the limit for one document.",
        "huge.docx: parsing needed more than 2,048 MB of memory, the limit for one document.",
    )
    assert notes["status"] == "indexed"
    print(
        f"1.5M paragraphs ({len(huge) / 1e6:.1f} MB): failed after {failed_after:.1f} s "
        f"({huge_item['error']}); the other organization's one-liner took {b_latency:.1f} s"
    )


def test_an_image_bomb_is_refused_before_decoding_and_the_job_goes_on(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    headers = {"X-API-Key": new_key(runtime)["key"]}
    kb_id = _kb(client, headers)
    files = [
        ("bomb.png", png_bomb(60_000, 60_000)),  # 3.6 billion pixels in 100 bytes
        ("notes.txt", (SAMPLES / "notes.txt").read_bytes()),
    ]
    job = wait_for_job(client, _upload(client, headers, kb_id, files)["id"], headers)
    assert job["status"] == "partially_failed", job
    outcome = {d["filename"]: d for d in job["documents"]}
    assert outcome["notes.txt"]["status"] == "indexed"
    assert outcome["bomb.png"]["status"] == "failed"
    assert outcome["bomb.png"]["error"] == (
        "bomb.png is too large; the limit for text recognition is 50 million pixels per image."
    )
