"""Two real `kb-service worker` processes on one PostgreSQL database, writing one identity at once.

The API (this process) queues 8 concurrent uploads of `same.txt` with different content
into one knowledge base and 8 concurrent replacements of one document (by external id)
into another; two `kb-service worker --threads 2` subprocesses claim the jobs from
PostgreSQL. What SQL must then say, whichever process did which job: one document per
identity, versions 1..N reserved once each, every job claimed by exactly one worker
(both processes among them), and chunk rows only of the live version.

Vectors: the embedded Qdrant Edge shard is a directory one process holds a lock on, so
two worker processes cannot share one (asserted below: a worker started on a running
worker's data directory exits with a sentence saying so). Sharing vectors between
processes takes a Qdrant server, which these machines do not have; so each worker has
its own data directory, and the test checks that the shard of the process that
committed the live version holds exactly its chunks' points.

A trigger on `ingest_jobs` (test scaffolding in this throw-away database) records each
lease owner a job is claimed by, since a finished job clears its `lease_owner`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from retrieval.embedding import Embedder
from retrieval.index import PointFilter
from retrieval.index.edge import EdgeVectorIndex
from retrieval.indexing import point_id
from tests.conftest import make_settings, new_key, postgres_url_or_skip, wait_for_job

API = "/api/v1"
WRITERS = 8
SECRET = "two-workers-test-secret-0123456789abcdef"
CLAIM_LOG = """
CREATE TABLE test_claims (job_id text NOT NULL, owner text NOT NULL);
CREATE FUNCTION test_log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.lease_owner IS NOT NULL AND NEW.lease_owner IS DISTINCT FROM OLD.lease_owner THEN
        INSERT INTO test_claims (job_id, owner) VALUES (NEW.id, NEW.lease_owner);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_claims AFTER UPDATE OF lease_owner ON ingest_jobs
    FOR EACH ROW EXECUTE FUNCTION test_log_claim();
"""


def _text(writer: int) -> str:
    return " ".join(
        f"Paragraph {writer}-{j}: the release train of team {writer} leaves on day {j} "
        f"with build {writer * 100 + j}."
        for j in range(30)
    )


def _worker(env: dict[str, str], data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kb_service.cli", "worker", "--threads", "2"],
            env={**env, "KB_DATA_DIR": str(data_dir)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _at_once(sends: list[Callable[[], Any]]) -> list[str]:
    job_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(sends))

    def run(send: Callable[[], Any]) -> None:
        barrier.wait()
        response = send()
        assert response.status_code == 202, response.text
        with lock:
            job_ids.append(response.json()["data"]["id"])

    threads = [threading.Thread(target=run, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return job_ids


@pytest.fixture
def cluster(tmp_path: Path, embedder: Embedder) -> Iterator[dict[str, Any]]:
    """The API's runtime (no workers) and two worker processes, on one fresh database."""
    url = postgres_url_or_skip()
    runtime = Runtime.build(
        make_settings(tmp_path / "api", database_url=url, secret_key=SECRET), embedder=embedder
    )
    with runtime.db.engine.begin() as connection:
        connection.exec_driver_sql(CLAIM_LOG)
    env = {
        **os.environ,
        "KB_DATABASE_URL": url,
        "KB_SECRET_KEY": SECRET,
        "KB_WORKER_POLL_SECONDS": "0.05",
        "HF_HUB_OFFLINE": "1",
    }
    dirs = [tmp_path / "worker-1", tmp_path / "worker-2"]
    workers = [_worker(env, d, tmp_path / f"{d.name}.log") for d in dirs]
    key = new_key(runtime)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            yield {
                "runtime": runtime,
                "client": client,
                "headers": {"X-API-Key": key["key"]},
                "workers": workers,
                "dirs": dirs,
                "env": env,
                "logs": [tmp_path / f"{d.name}.log" for d in dirs],
            }
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        runtime.close()


def test_two_worker_processes_keep_one_document_and_unique_versions(
    cluster: dict[str, Any], embedder: Embedder, tmp_path: Path
) -> None:
    runtime, client, headers = cluster["runtime"], cluster["client"], cluster["headers"]
    workers, logs = cluster["workers"], cluster["logs"]
    _wait(
        lambda: all(b"polling postgresql" in log.read_bytes() for log in logs),
        120,
        "both workers to start",
    )
    # A third worker on the first one's data directory, which holds its Edge shard's lock:
    # it loads the model while the jobs run, then must refuse to open the shard.
    intruder = subprocess.Popen(
        [sys.executable, "-m", "kb_service.cli", "worker"],
        env={**cluster["env"], "KB_DATA_DIR": str(cluster["dirs"][0])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    uploads = client.post(f"{API}/knowledge-bases", json={"name": "u"}, headers=headers)
    replaced = client.post(f"{API}/knowledge-bases", json={"name": "r"}, headers=headers)
    uploads_kb, replaced_kb = uploads.json()["data"]["id"], replaced.json()["data"]["id"]
    first = client.post(
        f"{API}/knowledge-bases/{replaced_kb}/ingest",
        json={"documents": [{"text": _text(99), "external_id": "policy"}]},
        headers=headers,
    ).json()["data"]
    assert wait_for_job(client, first["id"], headers, timeout=60)["status"] == "completed"

    def upload(n: int) -> Callable[[], Any]:
        files = {"files": ("same.txt", _text(n).encode(), "text/plain")}
        return lambda: client.post(
            f"{API}/knowledge-bases/{uploads_kb}/ingest", files=files, headers=headers
        )

    def replace(n: int) -> Callable[[], Any]:
        body = {"documents": [{"text": _text(10 + n), "external_id": "policy"}]}
        return lambda: client.post(
            f"{API}/knowledge-bases/{replaced_kb}/ingest", json=body, headers=headers
        )

    job_ids = _at_once([upload(n) for n in range(WRITERS)] + [replace(n) for n in range(WRITERS)])
    jobs = [wait_for_job(client, j, headers, timeout=120) for j in job_ids]
    assert all(job["status"] == "completed" for job in jobs), jobs

    _, refusal = intruder.communicate(timeout=120)
    assert intruder.returncode == 2, refusal
    assert b"is open in another process" in refusal
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(30) == 0

    with runtime.db.engine.connect() as c:
        claims = c.execute(text("SELECT job_id, owner FROM test_claims")).all()
        attempts = dict(c.execute(text("SELECT id, attempts FROM ingest_jobs")).all())
        owner_of = {job_id: owner for job_id, owner in claims}
        assert len(claims) == len(owner_of) == len(attempts) == 2 * WRITERS + 1  # one claim each
        assert set(attempts.values()) == {1}
        claimed_by = {int(owner.split(":")[1]) for owner in owner_of.values()}
        assert claimed_by == {w.pid for w in workers}, claimed_by  # both processes worked

        for kb_id, expected in ((uploads_kb, range(1, 9)), (replaced_kb, range(2, 10))):
            docs = c.execute(
                text(
                    "SELECT id, identity_key, version, latest_version, pending_versions, "
                    "chunk_count, status FROM documents WHERE knowledge_base_id = :kb"
                ),
                {"kb": kb_id},
            ).all()
            assert len(docs) == 1, docs  # one document per identity
            doc_id, _key, version, latest, pending, chunk_count, status = docs[0]
            assert (version, latest, pending, status) == (
                max(expected),
                max(expected),
                0,
                "indexed",
            )
            versions = c.execute(
                text(
                    "SELECT i.document_version, i.job_id FROM ingest_items i "
                    "JOIN ingest_jobs j ON j.id = i.job_id "
                    "WHERE j.knowledge_base_id = :kb AND j.id = ANY(:jobs)"
                ),
                {"kb": kb_id, "jobs": job_ids},
            ).all()
            assert sorted(v for v, _ in versions) == list(expected)  # each reserved once
            chunks = c.execute(
                text("SELECT point_id, ordinal FROM chunks WHERE document_id = :d"), {"d": doc_id}
            ).all()
            assert len(chunks) == chunk_count > 0
            assert {p for p, _ in chunks} == {point_id(doc_id, version, o) for _, o in chunks}
            # The live version's points are in the shard of the process that committed it.
            (winner,) = [job for v, job in versions if v == version]
            pid = int(owner_of[winner].split(":")[1])
            shard_dir = cluster["dirs"][[w.pid for w in workers].index(pid)]
            shard = EdgeVectorIndex(shard_dir / "qdrant-edge", embedder.dimension)
            try:
                live = PointFilter.where(document_id=doc_id, version=version)
                assert shard.count(live) == chunk_count
            finally:
                shard.close()
