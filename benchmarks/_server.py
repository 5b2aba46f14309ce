"""A real `kb-service serve` subprocess on 127.0.0.1 for benchmarks, with an admin key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, database_url: str | None
) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "KB_RATE_LIMIT_ENABLED": "false"}
    if database_url:
        env["KB_DATABASE_URL"] = database_url
    cli = [sys.executable, "-m", "kb_service.cli"]
    made = subprocess.run(
        [*cli, "keys", "create", "--org", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    key = json.loads(made.stdout.decode().strip().splitlines()[-1])["key"]
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base, key
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not become ready")
