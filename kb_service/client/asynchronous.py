"""`AsyncClient`: the same operations and helpers as `Client`, awaited.

async with AsyncClient("http://127.0.0.1:8000", api_key="sk_...") as kb:
    base = await kb.create_knowledge_base(name="Handbook")
    job = await kb.wait_for_job((await kb.upload_files(base.id, ["handbook.pdf"])).id)
    async for doc in kb.list_documents.iterate(base.id):
        print(doc.title)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from kb_service.api.schemas.ingest import IngestJobOut
from kb_service.api.schemas.meetings import MeetingOut
from kb_service.client.binding import AsyncSender, Prepared
from kb_service.client.connection import Connection
from kb_service.client.errors import ConnectionFailed, JobTimeout, error_of
from kb_service.client.operations import Operations
from kb_service.client.retries import RetryPolicy
from kb_service.client.streams import SseParser, StreamEvent, is_event_stream
from kb_service.client.uploads import (
    MAX_FILES_PER_REQUEST,
    Progress,
    Tracker,
    batches,
    body_length,
    find_files,
    multipart_length,
    opened,
)
from kb_service.statuses import JobStatus


class AsyncClient(Operations, AsyncSender):
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        organization_id: str | None = None,
        timeout: float = 30.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """`api_key` defaults to `KB_API_KEY`; `http`: a ready httpx client (its base_url is
        replaced), else one is made and owned."""
        self.connection = Connection.of(
            base_url,
            api_key or os.environ.get("KB_API_KEY"),
            organization_id=organization_id,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
        )
        self._owned = http is None
        self._http = http or httpx.AsyncClient(**self.connection.http_options())
        self._http.base_url = httpx.URL(self.connection.base_url)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(
        self, call: Prepared, *, tracker: Tracker | None = None, stream: bool = False
    ) -> httpx.Response:
        policy = self.connection.retry
        retry = 0
        while True:
            request = self.connection.build(self._http, call, tracker)
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                wait = policy.after_error(retry, replay_safe=call.replay_safe, error=exc)
                if wait is None:
                    raise ConnectionFailed(f"{call.method} {call.path}: {exc}") from exc
            else:
                wait = policy.after_response(
                    retry, replay_safe=call.replay_safe, keyed=call.keyed, response=response
                )
                if wait is None:
                    if tracker is not None:
                        tracker.finish(body_length(request))
                    return response
                await response.aclose()
            await asyncio.sleep(wait)
            retry += 1

    async def upload_files(
        self,
        kb_id: str,
        paths: Sequence[str | Path],
        metadata: dict[str, Any] | None = None,
        *,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> IngestJobOut:
        """Upload files as one ingest job (202); `progress(sent, total)` counts body bytes."""
        files = [Path(p) for p in paths]
        data = {"metadata": json.dumps(metadata)} if metadata else {}
        tracker = Tracker(progress, multipart_length(files, data))
        return await self._upload(kb_id, files, data, tracker, idempotency_key)

    async def upload_folder(
        self,
        kb_id: str,
        folder: str | Path,
        metadata: dict[str, Any] | None = None,
        *,
        pattern: str = "**/*",
        progress: Progress | None = None,
        max_files: int = MAX_FILES_PER_REQUEST,
    ) -> list[IngestJobOut]:
        """Every file under `folder` (dot-files skipped), one job per batch of at most `max_files`."""
        groups = batches(find_files(folder, pattern), max_files=max_files)
        data = {"metadata": json.dumps(metadata)} if metadata else {}
        tracker = Tracker(progress, sum(multipart_length(g, data) for g in groups))
        return [await self._upload(kb_id, group, data, tracker, None) for group in groups]

    async def _upload(
        self,
        kb_id: str,
        files: list[Path],
        data: dict[str, str],
        tracker: Tracker,
        key: str | None,
    ) -> IngestJobOut:
        with opened(files) as parts:
            op = self.ingest.op
            call = op.prepare((kb_id,), None, data, idempotency_key=key, files=parts)
            return op.decode(await self._send(call, tracker=tracker))

    async def import_transcript(
        self,
        path: str | Path,
        *,
        title: str | None = None,
        project_id: str | None = None,
        platform: str | None = None,
    ) -> MeetingOut:
        """Import a transcript file (.vtt, .srt, "Speaker: text", JSON) as a finished meeting."""
        op = self.import_transcript_file.op
        with opened([Path(path)]) as parts:
            fields = {"title": title, "project_id": project_id, "platform": platform}
            call = op.prepare((), None, fields, files=[("file", parts[0][1])])
            return op.decode(await self._send(call))

    async def wait_for_job(
        self, job_id: str, *, timeout: float = 300.0, poll: float = 0.5
    ) -> IngestJobOut:
        """Poll the job until it is completed, failed or partially_failed; else JobTimeout."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get_ingest_job(job_id)
            if job.status in JobStatus.terminal():
                return job
            if time.monotonic() >= deadline:
                raise JobTimeout(f"job {job_id} is still {job.status} after {timeout} s", job=job)
            await asyncio.sleep(poll)

    def stream_query(self, kb_id: str, **fields: Any) -> AsyncIterator[StreamEvent]:
        """A knowledge base's answer as events: citations, deltas, done (see `streams`)."""
        return self._stream(self.query.op.prepare((kb_id,), None, {**fields, "stream": True}))

    def stream_search(self, **fields: Any) -> AsyncIterator[StreamEvent]:
        """The organization-wide answer as events: citations, deltas, done."""
        return self._stream(self.search.op.prepare((), None, {**fields, "stream": True}))

    async def _stream(self, call: Prepared) -> AsyncIterator[StreamEvent]:
        response = await self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise error_of(response)
            if not is_event_stream(response):  # retrieve mode answers in one piece
                await response.aread()
                yield StreamEvent("done", self.query.op.decode(response).model_dump(mode="json"))
                return
            parser = SseParser()
            async for line in response.aiter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield event
            last = parser.close()
            if last is not None:
                yield last
        finally:
            await response.aclose()
