"""Preparing a job's items ahead of the model: dedup and version, then parse and chunk.

`ItemPreparer.start` begins a `Preparation`: an iterator over a job's pending items
in order, each with its target document version (`targets.py`, fenced on the job
lease) and its parsed and chunked document, or the error that stopped it; an item
whose content is unchanged is settled by `resolve_target` and not yielded. The work
runs on a helper thread per preparation, at most `budget` chunks ahead of the
consumer (`PrefetchBuffer`), so the model never waits for parsing; a failure of the
helper thread (`LeaseLost`, `ParserStopped`) is raised in the consumer.

Files are parsed in parser processes (`ingest.parser_pool`), under a time and memory
limit per document; JSON text records in this process. Before an item is parsed, its
`parse_attempts` is counted up in the same committed transaction that fences the
lease: an item whose earlier parses each ended with its worker dying is failed after
`MAX_PARSE_ATTEMPTS` instead of being parsed (and killing a worker) again. A worker
that hands the job back (`Preparation.counted`, `JobQueue.release`) counts its
unfinished parses back down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.documents import SourceFile
from ingest.errors import IngestError, ParserStopped
from ingest.parser_pool import ParserPool
from ingest.pipeline import ChunkingConfig, IngestPipeline, PreparedDocument
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem
from kb_service.observability import ingest as observe
from kb_service.workers.ingest.prefetch import PrefetchBuffer
from kb_service.workers.ingest.queue import JobQueue
from kb_service.workers.ingest.targets import Target, resolve_target

log = logging.getLogger(__name__)

MAX_PARSE_ATTEMPTS = 2


@dataclass
class PreparedItem:
    """An item for its target version: ready to embed (`prepared`) or failed (`error`)."""

    target: Target
    prepared: PreparedDocument | None
    error: str | None


class ItemPreparer:
    """Starts preparations of jobs' items (see the module docstring)."""

    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        pipeline: IngestPipeline,
        parsers: ParserPool,
        budget: int,
    ) -> None:
        self.db = db
        self.queue = queue
        self.pipeline = pipeline
        self.parsers = parsers
        self.budget = budget

    def start(
        self, job_id: str, item_ids: Sequence[str], worker_id: str, config: ChunkingConfig
    ) -> Preparation:
        return Preparation(self, job_id, item_ids, worker_id, config)

    def close(self) -> None:
        self.parsers.close()

    def prepare(
        self,
        job_id: str,
        item_id: str,
        worker_id: str,
        config: ChunkingConfig,
        counted: list[str],
    ) -> PreparedItem | None:
        """The item prepared (None: unchanged); appends its id to `counted` before parsing."""
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            target = resolve_target(session, item_id)
            if target is None:  # unchanged content: nothing to do
                return None
            item = session.get(IngestItem, item_id)
            assert item is not None
            if item.parse_attempts >= MAX_PARSE_ATTEMPTS:
                error = (
                    "The document was not parsed again: its worker stopped during each of "
                    f"its {item.parse_attempts} parses."
                )
                return PreparedItem(target, None, error)
            item.parse_attempts = IngestItem.parse_attempts + 1  # type: ignore[assignment]
            filename, content, text, title = item.filename, item.content, item.text, item.title
            media_type = item.media_type
        counted.append(item_id)  # committed: the parse starts now
        try:
            if text is not None:
                prepared = self.pipeline.prepare_text(text, title, config)
            else:
                source = SourceFile(filename or "upload", content or b"", media_type)
                prepared = self.parsers.prepare_file(source, config)
            if not prepared.chunks:
                return PreparedItem(target, None, "The document contains no text to index.")
            return PreparedItem(target, prepared, None)
        except IngestError as exc:
            return PreparedItem(target, None, str(exc))
        except ParserStopped:
            raise
        except Exception:
            log.exception("unexpected failure preparing item %s", item_id)
            error = "The document could not be processed (internal error)."
            return PreparedItem(target, None, error)


class Preparation:
    """One job's items being prepared on a helper thread; iterate, then `close()`."""

    def __init__(
        self,
        preparer: ItemPreparer,
        job_id: str,
        item_ids: Sequence[str],
        worker_id: str,
        config: ChunkingConfig,
    ) -> None:
        # Items whose parse attempt was counted; those still pending at a hand-back get
        # it back (`JobQueue.release`).
        self.counted: list[str] = []
        self._buffer: PrefetchBuffer[PreparedItem] = PrefetchBuffer(preparer.budget)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._produce,
            args=(preparer, job_id, item_ids, worker_id, config),
            name="kb-prepare",
            daemon=True,
        )
        self._thread.start()

    def __iter__(self) -> Iterator[PreparedItem]:
        while (ready := self._buffer.get()) is not None:
            yield ready
        self._thread.join()
        if self._failure is not None:  # e.g. LeaseLost, ParserStopped
            raise self._failure

    def close(self) -> None:
        """Stop the helper thread and wait for it (an in-flight parse ends first)."""
        self._buffer.close()
        self._thread.join()

    def _produce(
        self,
        preparer: ItemPreparer,
        job_id: str,
        item_ids: Sequence[str],
        worker_id: str,
        config: ChunkingConfig,
    ) -> None:
        buffer = self._buffer
        try:
            for item_id in item_ids:
                if buffer.closed:
                    return
                ready = preparer.prepare(job_id, item_id, worker_id, config, self.counted)
                if ready is None:  # settled (committed) as unchanged
                    observe.document_done("unchanged")
                else:
                    weight = len(ready.prepared.chunks) if ready.prepared else 1
                    if not buffer.put(ready, weight):
                        return
        except BaseException as exc:
            self._failure = exc
        finally:
            buffer.finish()
