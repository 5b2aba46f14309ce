"""MCP tool calls against the REST routes they stand for: latency on loopback.

A real `kb-service serve` subprocess (embedded storage, rate limit off) with the
handbook PDF and the runbook ingested; then, alternately, `--calls` REST requests and
MCP tool calls through the SDK's client over Streamable HTTP (one connection, so each
call is one POST): `POST /api/v1/search` in retrieve mode against the `search` tool, and
in answer mode against the `answer` tool. Prints p50/p95 in milliseconds per pair.

    .venv/bin/python -m benchmarks.mcp_latency [--calls 100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from benchmarks._server import ROOT, start_server

QUERY = "How large is the home office stipend?"


def ingest(base: str, headers: dict[str, str]) -> None:
    kb = httpx.post(f"{base}/api/v1/knowledge-bases", json={"name": "bench"}, headers=headers)
    kb_id = kb.json()["data"]["id"]
    files = [
        ("files", (n, (ROOT / "sample_docs" / n).read_bytes()))
        for n in ("handbook.pdf", "runbook.md")
    ]
    job = httpx.post(
        f"{base}/api/v1/knowledge-bases/{kb_id}/ingest", files=files, headers=headers, timeout=60
    ).json()["data"]
    while job["status"] in ("queued", "running"):
        time.sleep(0.2)
        job = httpx.get(f"{base}/api/v1/ingest-jobs/{job['id']}", headers=headers).json()["data"]
    assert job["status"] == "completed", job


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms"


async def measure(base: str, key: str, calls: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        k: [] for k in ("rest search", "mcp search", "rest answer", "mcp answer")
    }
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as mcp,
    ):

        async def timed(name: str, call: Callable[[], Awaitable[Any]]) -> None:
            started = time.perf_counter()
            await call()
            times[name].append((time.perf_counter() - started) * 1000)

        for mode, tool, arguments in (
            ("retrieve", "search", {"query": QUERY, "top_k": 5}),
            ("answer", "answer", {"question": QUERY}),
        ):
            body = {"query": QUERY, "top_k": 5, "mode": mode}
            for i in range(calls + 5):  # the first 5 of each warm up
                await timed(f"rest {tool}", partial(http.post, f"{base}/api/v1/search", json=body))
                await timed(f"mcp {tool}", partial(mcp.call_tool, tool, arguments))
                if i < 5:
                    times[f"rest {tool}"].pop()
                    times[f"mcp {tool}"].pop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, base, key = start_server(Path(tmp), None)
        try:
            ingest(base, {"X-API-Key": key})
            times = anyio.run(measure, base, key, args.calls)
        finally:
            server.terminate()
            server.wait(30)
    for name, samples in times.items():
        print(f"{name:12s} {percentiles(samples)}  ({len(samples)} calls)")


if __name__ == "__main__":
    main()
