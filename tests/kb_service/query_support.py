"""The query tests' shared knowledge base: real sample documents, model, SQLite, Qdrant Edge.

`open_query_env` ingests the sample documents once (workers drained in-process, so
"still ingesting" states are deterministic); `tests/conftest.py` serves it to every
query test module as the session fixture `query_env`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.workers.base import worker_identity
from kb_service.workers.ingest.pool import WorkerPool
from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS, make_settings, new_key

FILES = ["handbook.pdf", "runbook.md", "notes.txt", "architecture.html", "onboarding.docx"]


class Env:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime, self.client = runtime, client
        key = new_key(runtime)
        self.org = key["organization_id"]
        self.h = {"X-API-Key": key["key"]}
        self._texts: dict[str, str] = {}

    def drain(self) -> None:
        pool = WorkerPool(
            queue=self.runtime.queue, processor=self.runtime.processor, count=0, poll_seconds=1
        )
        while pool.run_once(worker_identity()):
            pass

    def kb(self, name: str, **body: Any) -> str:
        r = self.client.post("/api/v1/knowledge-bases", json={"name": name, **body}, headers=self.h)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    def upload(self, kb: str, names: list[str], metadata: dict[str, Any] | None = None) -> None:
        files = [("files", (n, (SAMPLE_DOCS / n).read_bytes())) for n in names]
        data = {"metadata": json.dumps(metadata)} if metadata else {}
        r = self.client.post(
            f"/api/v1/knowledge-bases/{kb}/ingest", files=files, data=data, headers=self.h
        )
        assert r.status_code == 202, r.text

    def records(self, kb: str, documents: list[dict[str, Any]]) -> None:
        r = self.client.post(
            f"/api/v1/knowledge-bases/{kb}/ingest", json={"documents": documents}, headers=self.h
        )
        assert r.status_code == 202, r.text

    def query(self, kb: str, query: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/knowledge-bases/{kb}/query", json={"query": query, **body}, headers=self.h
        )

    def text(self, kb: str, doc: str) -> str:
        if doc not in self._texts:
            r = self.client.get(
                f"/api/v1/knowledge-bases/{kb}/documents/{doc}?include_text=true", headers=self.h
            )
            self._texts[doc] = r.json()["data"]["text"]
        return self._texts[doc]


@contextmanager
def open_query_env(tmp_path: Path, embedder: Embedder) -> Iterator[Env]:
    runtime = Runtime.build(make_settings(tmp_path), embedder=embedder)
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        e = Env(runtime, client)
        e.main = e.kb("Company docs")  # type: ignore[attr-defined]
        e.upload(e.main, FILES[:3], metadata={"team": "ops", "tier": 1})  # type: ignore[attr-defined]
        e.upload(e.main, FILES[3:], metadata={"team": "eng", "tier": 2})  # type: ignore[attr-defined]
        e.records(e.main, json.loads((SAMPLE_DOCS / "faq.json").read_text())["documents"])  # type: ignore[attr-defined]
        e.drain()
        yield e
    runtime.close()


def assert_sound(
    env: Env, kb: str, data: dict[str, Any], every_sentence_cited: bool = True
) -> None:
    """Every marker resolves, every citation is used, every cited span is literal."""
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])]
    assert (
        sorted(set(markers))
        == [c["index"] for c in data["citations"]]
        == list(range(1, len(data["citations"]) + 1))
    )
    if every_sentence_cited and data["citations"]:  # a refusal cites nothing
        assert not re.split(r"\[\d+\]", data["answer"])[-1].strip(), "a sentence is uncited"
    for c in data["citations"]:
        assert env.text(kb, c["document_id"])[c["char_start"] : c["char_end"]] == c["text"]
        assert (
            c["chunk_id"].startswith("chk_")
            and c["knowledge_base_id"] == kb
            and c["title"]
            and c["source"]
        )
