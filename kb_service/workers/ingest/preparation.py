"""Preparing a job's items ahead of the model: dedup and version, then parse and chunk.

`ItemPreparer.prepared` yields a job's pending items in order, each with its target
document version (`targets.py`, fenced on the job lease) and its parsed and chunked
document, or the error that stopped it; an item whose content is unchanged is settled
by `resolve_target` and not yielded. The work runs on one helper thread, at most
`budget` chunks ahead of the consumer (`PrefetchBuffer`), so the model never waits for
parsing; a failure of the helper thread (e.g. `LeaseLost`) is raised in the consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ingest.documents import SourceFile
from ingest.errors import IngestError
from ingest.pipeline import ChunkingConfig, IngestPipeline, PreparedDocument
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem
from kb_service.workers.ingest.prefetch import PrefetchBuffer
from kb_service.workers.ingest.queue import JobQueue
from kb_service.workers.ingest.targets import Target, resolve_target

log = logging.getLogger(__name__)


@dataclass
class PreparedItem:
    """An item for its target version: ready to embed (`prepared`) or failed (`error`)."""

    target: Target
    prepared: PreparedDocument | None
    error: str | None


class ItemPreparer:
    """Prepares items on one helper thread (see the module docstring)."""

    def __init__(
        self, *, db: Database, queue: JobQueue, pipeline: IngestPipeline, budget: int
    ) -> None:
        self.db = db
        self.queue = queue
        self.pipeline = pipeline
        self.budget = budget
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-prepare")

    def prepared(
        self, job_id: str, item_ids: Sequence[str], worker_id: str, config: ChunkingConfig
    ) -> Iterator[PreparedItem]:
        """Prepared items in order; parsing runs ahead of the model by `budget` chunks."""
        buffer: PrefetchBuffer[PreparedItem] = PrefetchBuffer(self.budget)
        producer = self._executor.submit(self._produce, job_id, item_ids, worker_id, config, buffer)
        try:
            while (ready := buffer.get()) is not None:
                yield ready
            producer.result()  # a failure of the producer (e.g. LeaseLost) surfaces here
        finally:
            buffer.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _produce(
        self,
        job_id: str,
        item_ids: Sequence[str],
        worker_id: str,
        config: ChunkingConfig,
        buffer: PrefetchBuffer[PreparedItem],
    ) -> None:
        try:
            for item_id in item_ids:
                if buffer.closed:
                    return
                ready = self._prepare(job_id, item_id, worker_id, config)
                if ready is not None:
                    weight = len(ready.prepared.chunks) if ready.prepared else 1
                    if not buffer.put(ready, weight):
                        return
        finally:
            buffer.finish()

    def _prepare(
        self, job_id: str, item_id: str, worker_id: str, config: ChunkingConfig
    ) -> PreparedItem | None:
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            target = resolve_target(session, item_id)
        if target is None:  # unchanged content: nothing to do
            return None
        with self.db.session() as session:
            item = session.get(IngestItem, item_id)
            assert item is not None
            filename, content, text, title = item.filename, item.content, item.text, item.title
            media_type = item.media_type
        try:
            if text is not None:
                prepared = self.pipeline.prepare_text(text, title, config)
            else:
                source = SourceFile(filename or "upload", content or b"", media_type)
                prepared = self.pipeline.prepare_file(source, config)
            if not prepared.chunks:
                return PreparedItem(target, None, "The document contains no text to index.")
            return PreparedItem(target, prepared, None)
        except IngestError as exc:
            return PreparedItem(target, None, str(exc))
        except Exception:
            log.exception("unexpected failure preparing item %s", item_id)
            return PreparedItem(
                target, None, "The document could not be processed (internal error)."
            )
