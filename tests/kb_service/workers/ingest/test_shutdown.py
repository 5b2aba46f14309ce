"""SIGTERM while a parse runs: `serve` and `worker` exit within 10 s and hand the job back.

Real processes on 127.0.0.1, real SQLite, real model. The handed-back job is queued
with no lease (no waiting for it to expire), the interrupted parse is not counted
against the document, and the next start finishes the job.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.hostile_docs import docx_with_paragraphs
from tests.kb_service.live_servers import wait_until
from tests.kb_service.workers.ingest.process_support import free_port, start, submit

SAMPLES = Path(__file__).resolve().parents[4] / "sample_docs"
EXIT_WITHIN = 10.0


def _command(kind: str) -> list[str]:
    if kind == "worker":
        return ["worker"]
    return ["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--log-level", "warning"]


def _parsers(pid: int) -> list[psutil.Process]:
    """The parser processes of process `pid`: children of its fork server."""
    return [
        parser
        for child in psutil.Process(pid).children()
        if "forkserver" in " ".join(child.cmdline())
        for parser in child.children()
    ]


def _wait_serving(process: subprocess.Popen[bytes], command: list[str]) -> None:
    if command[0] != "serve":
        return
    url = f"http://127.0.0.1:{command[command.index('--port') + 1]}/healthz"

    def healthy() -> bool:
        assert process.poll() is None, "serve exited"
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 180, "serve to answer /healthz")


@pytest.mark.parametrize("kind", ["serve", "worker"])
def test_sigterm_during_a_parse_exits_within_10_s_and_hands_the_job_back(
    kind: str, tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path)
    slow = docx_with_paragraphs(4_000)  # parses for seconds
    job = submit(
        settings,
        embedder,
        [("slow.docx", slow), ("notes.txt", (SAMPLES / "notes.txt").read_bytes())],
    )
    log = tmp_path / "process.log"
    command = _command(kind)
    process = start(command, job.env(), log)
    try:
        _wait_serving(process, command)
        wait_until(lambda: job.items()[0].parse_attempts == 1, 180, "the parse to start")
        wait_until(lambda: bool(_parsers(process.pid)), 180, "a parser process")
        time.sleep(1)
        parsers = _parsers(process.pid)
        assert job.items()[0].status == "pending"  # still parsing
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        took = time.monotonic() - stopped_at
    finally:
        if process.poll() is None:
            process.kill()
    print(f"{kind}: exited {took:.1f} s after SIGTERM (code {process.returncode})")
    assert took < EXIT_WITHIN, log.read_text()[-3000:]
    # uvicorn re-raises the signal it handled once its shutdown is done
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    assert "back to the queue: the service is stopping" in log.read_text()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in parsers)
    handed_back = job.job()
    assert (handed_back.status, handed_back.lease_owner, handed_back.lease_expires_at) == (
        "queued",
        None,
        None,
    )
    assert handed_back.attempts == 0
    assert [(i.status, i.parse_attempts) for i in job.items()] == [("pending", 0), ("pending", 0)]

    again = start(_command(kind), job.env(), log)
    try:
        wait_until(lambda: job.job().status == "completed", 600, "the next start to finish")
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(30)
    assert [i.status for i in job.items()] == ["indexed", "indexed"]
    job.db.dispose()
