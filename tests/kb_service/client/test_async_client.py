"""`AsyncClient` against the real app under uvicorn on loopback: the core flow, awaited.

The same table operations and helpers as the blocking client: create, upload with
progress, wait for the job, a cited answer (plain, streamed, and several at once),
pages followed with `async for`, another organization's id as `NotFound`, and a
dropped connection retried with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kb_service.client import AsyncClient, NotFound
from tests.kb_service.client.client_support import Served, dropping_proxy, sample

FILES = ("runbook.md", "notes.txt", "support-sync-2026-02-25.txt")
QUESTION = "When does the payments alert fire?"


def test_async_core_flow(served: Served) -> None:
    async def flow() -> dict[str, Any]:
        progress: list[tuple[int, int]] = []
        async with AsyncClient(served.url, api_key=served.acme["key"]) as kb:
            base = await kb.create_knowledge_base(name="Async runbooks")
            job = await kb.upload_files(
                base.id, sample(*FILES), progress=lambda s, t: progress.append((s, t))
            )
            done = await kb.wait_for_job(job.id, timeout=180, poll=0.1)
            answers = await asyncio.gather(*(kb.query(base.id, query=QUESTION) for _ in range(3)))
            first = await kb.list_documents(base.id, limit=2)
            every = [d async for d in kb.list_documents.iterate(base.id, limit=2)]
            events = [e async for e in kb.stream_query(base.id, query=QUESTION)]
            cited = answers[0].citations[0]
            doc = await kb.get_document(base.id, cited["document_id"], include_text=True)
        async with AsyncClient(served.url, api_key=served.globex["key"]) as other:
            with pytest.raises(NotFound) as caught:
                await other.get_ingest_job(job.id)
        return locals()

    got = asyncio.run(flow())
    assert got["progress"][-1][0] == got["progress"][-1][1] > 0
    assert got["done"].status == "completed" and got["done"].progress.documents_done == 3
    answer = got["answers"][0]
    assert answer.found and "2%" in (answer.answer or "")
    assert all(a.answer == answer.answer for a in got["answers"])
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer or "")}
    assert markers == {c["index"] for c in answer.citations} and markers
    cited = got["cited"]
    assert got["doc"].text[cited["char_start"] : cited["char_end"]] == cited["text"]
    assert len(got["first"]) == 2 and got["first"].next_cursor
    assert sorted(d.source for d in got["every"]) == sorted(FILES)
    assert len({d.id for d in got["every"]}) == 3
    kinds = [e.event for e in got["events"]]
    assert kinds[0] == "citations" and kinds[-1] == "done"
    assert got["events"][-1].data["answer"] == answer.answer
    assert got["caught"].value.status_code == 404 and got["caught"].value.code == "not_found"


def test_async_dropped_connection_is_retried_with_the_same_key(served: Served) -> None:
    async def create(url: str) -> tuple[str, list[str]]:
        async with AsyncClient(url, api_key=served.acme["key"]) as kb:
            created = await kb.create_project(name="Dropped async")
            same = [p.id async for p in kb.list_projects.iterate() if p.name == "Dropped async"]
            return created.id, same

    with dropping_proxy(served.url, drop=1) as proxy:
        created, same_name = asyncio.run(create(proxy.url))
    assert same_name == [created]
    keys = [re.search(rb"idempotency-key: (\S+)", r, re.I) for r in proxy.requests[:2]]
    assert keys[0] and keys[1] and keys[0].group(1) == keys[1].group(1)
