"""Live meeting callbacks under sustained load: response time and time-to-searchable.

Starts a real `kb-service serve` (uvicorn, embedded SQLite + Qdrant Edge, in-process
meeting indexer) on loopback in a child process, registers a meeting source, then
sends `--rate` signed `segment_finalized` callbacks per second (open loop: a slow
answer never lowers the offered rate) spread over `--meetings` concurrent meetings for
`--duration` seconds. Every segment carries a unique word; one prober takes the newest
accepted segment, polls `POST /search` (hybrid, meetings only) every `--poll`
seconds until its word is found (time-to-searchable = found - callback sent), then
takes the newest again. One probe at a time keeps the probing load bounded: each
search runs the query through the model, so unbounded probing would slow indexing
down in proportion to how slow it already is. At the end every meeting is ended
and the time until all are `indexed` is reported.

    .venv/bin/python -m benchmarks.meeting_callbacks [--duration 600] [--rate 50]
        [--meetings 10] [--poll 0.25] [--database-url postgresql://...]

Targets (issue 5): p95 callback response <= 50 ms; p95 time-to-searchable <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks._server import start_server
from kb_service.services.meeting_callbacks import sign

WORDS = [
    *[
        "we",
        "should",
        "move",
        "the",
        "billing",
        "migration",
        "to",
        "next",
        "sprint",
        "because",
        "the",
    ],
    *["acquirer", "failover", "runbook", "still", "needs", "review", "and", "the", "staging"],
    *["cluster", "is", "too", "small", "for", "the", "load", "test"],
]
SPEAKERS = ["Ines Carvalho", "Tomas Eriksen", "Priya Natarajan", "Marek Nowak"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "p99": round(percentile(values, 99), 4),
        "max": round(max(values), 4) if values else float("nan"),
        "mean": round(statistics.fmean(values), 4) if values else float("nan"),
    }


class Load:
    def __init__(
        self, base: str, key: str, source: dict[str, Any], args: argparse.Namespace
    ) -> None:
        self.base, self.source, self.args = base, source, args
        self.headers = {"X-API-Key": key}
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.searchable: list[float] = []
        self.not_found = 0
        self.lock = threading.Lock()
        self.local = threading.local()
        self.sequence = [0] * args.meetings
        self.rng = random.Random(7)
        self.latest: tuple[str, float] | None = None
        self.done = threading.Event()

    def client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=30)
        return self.local.client  # type: ignore[no-any-return]

    def post(self, body: dict[str, Any]) -> tuple[float, int]:
        raw = json.dumps(body).encode()
        headers = {
            "X-Sasha-Signature": sign(self.source["signing_secret"], raw),
            "Content-Type": "application/json",
        }
        started = time.perf_counter()
        response = self.client().post(
            f"{self.base}/api/v1/meetings/events/{self.source['id']}", content=raw, headers=headers
        )
        return time.perf_counter() - started, response.status_code

    def send_segment(self, n: int) -> None:
        meeting = n % self.args.meetings
        word = f"kw{n:07d}"
        text = " ".join(self.rng.sample(WORDS, 12)) + f" {word}."
        body = {
            "type": "segment_finalized",
            "meetingId": f"bench-{meeting}",
            "sequence": 10 + n // self.args.meetings,
            "timestamp": time.time(),
            "payload": {"speaker": SPEAKERS[n % 4], "text": text, "timestamp": n / 10},
        }
        sent = time.monotonic()
        elapsed, status = self.post(body)
        with self.lock:
            self.latencies.append(elapsed)
            if status != 200:
                self.errors.append(f"{n}: {status}")
        if status == 200:
            with self.lock:
                self.latest = (word, sent)

    def prober(self) -> None:
        """One probe at a time, on the newest accepted segment: the probing load stays
        bounded (<= 1 / --poll searches per second) however slow indexing gets."""
        while not self.done.is_set():
            with self.lock:
                latest, self.latest = self.latest, None
            if latest is None:
                time.sleep(0.05)
                continue
            self.probe(*latest)

    def probe(self, word: str, sent: float) -> None:
        deadline = sent + 60
        while time.monotonic() < deadline:
            response = self.client().post(
                f"{self.base}/api/v1/search",
                json={
                    "query": word,
                    "mode": "retrieve",
                    "top_k": 3,
                    "filter": {"source_types": ["meeting"]},
                },
                headers=self.headers,
            )
            chunks = response.json()["data"]["chunks"] if response.status_code == 200 else []
            if any(word in c["text"] for c in chunks):
                with self.lock:
                    self.searchable.append(time.monotonic() - sent)
                return
            time.sleep(self.args.poll)
        with self.lock:
            self.not_found += 1

    def run(self) -> None:
        total = int(self.args.duration * self.args.rate)
        prober = threading.Thread(target=self.prober, daemon=True)
        prober.start()
        with ThreadPoolExecutor(32) as senders:
            start = time.monotonic() + 0.5
            for n in range(total):
                delay = start + n / self.args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                senders.submit(self.send_segment, n)
                if n and n % (self.args.rate * 60) == 0:
                    with self.lock:
                        recent = self.latencies[-self.args.rate * 60 :]
                    print(
                        f"  {n / self.args.rate:.0f}s: p95 callback "
                        f"{percentile(recent, 95) * 1000:.1f} ms, searchable p95 "
                        f"{percentile(self.searchable, 95):.2f} s",
                        flush=True,
                    )
            self.sent_seconds = time.monotonic() - start
        self.done.set()
        prober.join(70)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--rate", type=int, default=50, help="segment events per second")
    parser.add_argument("--meetings", type=int, default=10, help="concurrent live meetings")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between probe searches")
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-meetings-bench-") as tmp:
        server, base, key = start_server(Path(tmp) / "data", args.database_url)
        try:
            headers = {"X-API-Key": key}
            source = httpx.post(
                f"{base}/api/v1/meeting-sources", json={"name": "bench"}, headers=headers
            ).json()["data"]
            load = Load(base, key, source, args)
            print(
                f"sending {args.rate}/s for {args.duration:.0f}s over {args.meetings} meetings",
                flush=True,
            )
            load.run()
            print(
                "callbacks (ms):",
                {k: round(v * 1000, 1) for k, v in summary(load.latencies).items() if k != "count"},
                flush=True,
            )
            ended_at = time.monotonic()
            ids = []
            for m in range(args.meetings):
                body = {
                    "type": "meeting_status",
                    "meetingId": f"bench-{m}",
                    "sequence": 10**9,
                    "timestamp": time.time(),
                    "payload": {"status": "ended"},
                }
                raw = json.dumps(body).encode()
                reply = httpx.post(
                    f"{base}/api/v1/meetings/events/{source['id']}",
                    content=raw,
                    headers={"X-Sasha-Signature": sign(source["signing_secret"], raw)},
                ).json()
                ids.append(reply["data"]["meeting_id"])
            while time.monotonic() - ended_at < 900:
                statuses = [
                    httpx.get(f"{base}/api/v1/meetings/{i}", headers=headers).json()["data"][
                        "status"
                    ]
                    for i in ids
                ]
                if all(s == "indexed" for s in statuses):
                    break
                time.sleep(1)
            report = {
                "duration_s": args.duration,
                "offered_rate": args.rate,
                "achieved_rate": round(len(load.latencies) / load.sent_seconds, 2),
                "meetings": args.meetings,
                "callback_ms": {
                    k: (v * 1000 if k != "count" else v) for k, v in summary(load.latencies).items()
                },
                "callback_errors": len(load.errors),
                "searchable_s": summary(load.searchable),
                "probes_not_found_60s": load.not_found,
                "all_indexed_after_end_s": round(time.monotonic() - ended_at, 2),
                "final_statuses": statuses,
                "database": "postgresql" if args.database_url else "sqlite",
            }
            print(json.dumps(report, indent=2))
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
