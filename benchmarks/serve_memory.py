"""Peak RSS of `kb-service serve` with the model loaded and an idle knowledge base.

Starts the real `serve` command on a throw-away data directory, creates a key and a
knowledge base, ingests the sample documents and runs a query (so the model, the
tokenizer, unstructured and the index are all loaded), waits for the process to go idle,
then reads the kernel's high-water mark (VmHWM) and current RSS of the server process.

    .venv/bin/python -m benchmarks.serve_memory
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 1536


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_mb(pid: int) -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def main() -> None:
    kb_cli = Path(sys.executable).with_name("kb-service")
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {**os.environ, "KB_DATA_DIR": tmp, "KB_PORT": str(port), "KB_HOST": "127.0.0.1"}
        key = json.loads(
            subprocess.run(
                [kb_cli, "keys", "create", "--org", "bench", "--role", "admin", "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["key"]
        server = subprocess.Popen(
            [kb_cli, "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if http.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("serve did not become ready")
                    time.sleep(0.2)
                after_start = _memory_mb(server.pid)
                kb = http.post("/api/v1/knowledge-bases", json={"name": "idle"}).json()["data"]
                samples = sorted(p for p in (ROOT / "sample_docs").iterdir() if p.is_file())
                files = [("files", (p.name, p.read_bytes())) for p in samples]
                job = http.post(f"/api/v1/knowledge-bases/{kb['id']}/ingest", files=files).json()
                job_id = job["data"]["id"]
                while http.get(f"/api/v1/ingest-jobs/{job_id}").json()["data"]["status"] in (
                    "queued",
                    "running",
                ):
                    time.sleep(0.2)
                answer = http.post(
                    f"/api/v1/knowledge-bases/{kb['id']}/query", json={"query": "How to roll back?"}
                )
                assert answer.status_code == 200, answer.text
                time.sleep(3)  # idle: in-process workers and dispatcher polling an empty queue
                idle = _memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        json.dumps(
            {
                "rss_after_start_mb": round(after_start["VmRSS"], 1),
                "rss_idle_after_ingest_and_query_mb": round(idle["VmRSS"], 1),
                "peak_rss_mb": round(idle["VmHWM"], 1),
                "limit_mb": LIMIT_MB,
                "ratio_of_limit": round(idle["VmHWM"] / LIMIT_MB, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
