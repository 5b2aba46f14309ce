"""The composition root: builds the service's parts from settings, or takes ready ones.

Tests inject their own index or embedder; `serve` and `worker` build everything from
`KB_*` settings. The model is loaded once here and shared by every thread, and the
query engine (retriever and answerers over that index) is built here once. The
background loops (`kb_service.workers`) are started here, and woken here after a
commit that left them work (`Runtime.wake`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from ingest.extract import Extractor
from ingest.parser_pool import ParserPool
from ingest.parser_process import ParserSetup
from ingest.pipeline import IngestPipeline
from kb_service.db.database import Database, Wake
from kb_service.observability.embedding import instrumented
from kb_service.runtime_parts import archive_limits, build_index, ocr_limits, parse_limits
from kb_service.secret_key import server_secret
from kb_service.services.query_engine import QueryEngine, build_query_engine
from kb_service.services.tombstones import purge_tombstones
from kb_service.settings import ConfigurationError, Settings
from kb_service.sources.fetch import FetchPolicy
from kb_service.workers.base import PollingWorker
from kb_service.workers.ingest.pool import WorkerPool
from kb_service.workers.ingest.processor import JobProcessor
from kb_service.workers.ingest.queue import JobQueue
from kb_service.workers.meetings.indexer import MeetingIndexer
from kb_service.workers.priority import lower_current_thread_priority
from kb_service.workers.scheduler import Schedule, Scheduler
from kb_service.workers.sources.queue import SyncQueue
from kb_service.workers.sources.sync import SourceSyncer
from kb_service.workers.sources.worker import SourceSyncWorker, source_schedule
from kb_service.workers.tasks.runner import RunQueue, TaskRunner
from kb_service.workers.tasks.worker import TaskRunWorker, task_schedule
from kb_service.workers.webhooks.dispatcher import WebhookDispatcher
from retrieval.embedding import Embedder, load_embedder
from retrieval.index import VectorIndex
from retrieval.indexing import ChunkEmbedder
from retrieval.sparse import SparseEncoder

log = logging.getLogger(__name__)

# `close()` budget: a service told to stop (SIGTERM) exits within 10 s.
STOP_SECONDS = 7.0


@dataclass
class Runtime:
    settings: Settings
    db: Database
    embedder: Embedder
    sparse_encoder: SparseEncoder
    chunk_embedder: ChunkEmbedder
    index: VectorIndex
    pipeline: IngestPipeline
    queue: JobQueue
    processor: JobProcessor
    query_engine: QueryEngine
    secret_key: bytes = field(repr=False)  # KB_SECRET_KEY or the generated one
    workers: WorkerPool | None = None
    dispatcher: WebhookDispatcher | None = None
    meeting_indexer: MeetingIndexer | None = None
    scheduler: Scheduler | None = None
    source_sync: SourceSyncWorker | None = None
    task_runs: TaskRunWorker | None = None
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        index: VectorIndex | None = None,
        migrate: bool = True,
    ) -> Runtime:
        db = Database(settings.resolved_database_url)
        if migrate:
            db.migrate()
        # every batch's size and duration is recorded (kb_embedding_* metrics)
        embedder = instrumented(
            embedder or load_embedder(settings.embedding.model, settings.embedding.batch_size)
        )
        index = index or build_index(settings, embedder.dimension)
        if index.dimension != embedder.dimension:
            raise ConfigurationError(
                f"The vector index holds {index.dimension}-dimensional vectors but the embedding "
                f"model produces {embedder.dimension}: KB_EMBEDDING_MODEL changed? Use a new "
                "KB_QDRANT_COLLECTION or KB_DATA_DIR."
            )
        purge_tombstones(db, index)
        sparse_encoder = SparseEncoder()
        chunk_embedder = ChunkEmbedder(embedder=embedder, sparse_encoder=sparse_encoder)
        pipeline = IngestPipeline(
            window=chunk_embedder.window,
            extractor=Extractor(
                archive_limits=archive_limits(settings), ocr_limits=ocr_limits(settings)
            ),
        )
        queue = JobQueue(db, settings.ingest.job_lease_seconds)
        processor = JobProcessor(
            db=db,
            queue=queue,
            pipeline=pipeline,
            parsers=ParserPool(ParserSetup.of(pipeline), parse_limits(settings)),
            chunk_embedder=chunk_embedder,
            index=index,
            time_slice_seconds=settings.ingest.job_time_slice_seconds,
        )
        engine = build_query_engine(
            settings, embedder=embedder, sparse_encoder=sparse_encoder, index=index
        )
        secret_key = server_secret(settings)
        runtime = cls(
            settings=settings,
            db=db,
            embedder=embedder,
            sparse_encoder=sparse_encoder,
            chunk_embedder=chunk_embedder,
            index=index,
            pipeline=pipeline,
            queue=queue,
            processor=processor,
            query_engine=engine,
            secret_key=secret_key,
        )
        db.on_commit.append(runtime.wake)
        return runtime

    def start_workers(self, count: int | None = None) -> WorkerPool:
        count = self.settings.ingest.in_process_workers if count is None else count
        self.workers = WorkerPool(
            queue=self.queue,
            processor=self.processor,
            count=count,
            poll_seconds=self.settings.ingest.worker_poll_seconds,
        )
        self.workers.start()
        if count:
            threading.Thread(
                target=self._warm_parsers, name="kb-parser-warmup", daemon=True
            ).start()
        return self.workers

    def _warm_parsers(self) -> None:
        """Start the parsers' fork server in the background, at background priority."""
        lower_current_thread_priority()
        try:
            self.processor.preparer.parsers.start_server()
        except Exception:  # the first file starts it again, and reports why it cannot
            log.exception("could not start the parser processes' fork server")

    # -- webhook delivery --
    def start_webhook_dispatcher(self) -> WebhookDispatcher:
        settings = self.settings
        self.dispatcher = WebhookDispatcher(
            self.db,
            timeout=settings.webhooks.timeout_seconds,
            concurrency=settings.webhooks.concurrency,
            poll_seconds=settings.webhooks.poll_seconds,
            allow_private=settings.webhooks.allow_private,
        )
        self.dispatcher.start()
        return self.dispatcher

    # -- meeting indexing (live segments and ended meetings) --
    def start_meeting_indexer(self) -> MeetingIndexer:
        self.meeting_indexer = MeetingIndexer(
            db=self.db,
            chunker=self.pipeline.transcript_chunker(),
            chunk_embedder=self.chunk_embedder,
            index=self.index,
            poll_seconds=self.settings.meetings.poll_seconds,
            lease_seconds=self.settings.meetings.lease_seconds,
            live_embed_max_rate=self.settings.meetings.live_embed_max_rate,
        )
        self.meeting_indexer.start()
        return self.meeting_indexer

    # -- web sources: the scheduler (due slots queue syncs) and the sync workers --
    def source_syncer(self) -> SourceSyncer:
        settings = self.settings.sources
        return SourceSyncer(
            db=self.db,
            index=self.index,
            queue=SyncQueue(self.db, settings.lease_seconds),
            policy=FetchPolicy.of(self.settings),
        )

    def start_source_sync(self, count: int | None = None) -> SourceSyncWorker:
        settings = self.settings.sources
        self._schedule(source_schedule())
        syncer = self.source_syncer()
        self.source_sync = SourceSyncWorker(
            queue=syncer.queue,
            syncer=syncer,
            count=settings.sync_workers if count is None else count,
            poll_seconds=settings.poll_seconds,
        )
        self.source_sync.start()
        return self.source_sync

    # -- tasks: the scheduler (due slots queue runs) and the run workers --
    def task_runner(self) -> TaskRunner:
        queue = RunQueue(self.db, self.settings.tasks.lease_seconds)
        return TaskRunner(db=self.db, engine=self.query_engine, queue=queue)

    def start_tasks(self, count: int | None = None) -> TaskRunWorker:
        settings = self.settings.tasks
        self._schedule(task_schedule())
        self.task_runs = TaskRunWorker(
            runner=self.task_runner(),
            count=settings.run_workers if count is None else count,
            poll_seconds=settings.poll_seconds,
        )
        self.task_runs.start()
        return self.task_runs

    def _schedule(self, schedule: Schedule) -> None:
        """Fire `schedule` in this process's scheduler, started with the first schedule."""
        if self.scheduler is None:
            poll = min(self.settings.sources.poll_seconds, self.settings.tasks.poll_seconds)
            self.scheduler = Scheduler(self.db, [], poll_seconds=poll)
            self.scheduler.start()
        self.scheduler.add(schedule)

    def wake(self, what: Wake) -> None:
        """A commit left work of `what`: wake this process's loop for it, if it runs one."""
        loops: dict[Wake, PollingWorker | None] = {
            Wake.INGEST: self.workers,
            Wake.WEBHOOKS: self.dispatcher,
            Wake.MEETINGS: self.meeting_indexer,
            Wake.SOURCES: self.source_sync,
            Wake.TASKS: self.task_runs,
        }
        loop = loops[what]
        if loop is not None:
            loop.notify()

    def close(self, timeout: float = STOP_SECONDS) -> None:
        """Stop within about `timeout` seconds, handing unfinished ingest jobs back.

        Parses are killed at once and every ingest job in progress goes back to the
        queue (queued, no lease) between items, so another worker, or this service's
        next start, resumes it without waiting for a lease to expire.
        """
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout
        loops: list[PollingWorker] = [
            w
            for w in (
                self.workers,
                self.dispatcher,
                self.meeting_indexer,
                self.scheduler,
                self.source_sync,
                self.task_runs,
            )
            if w
        ]
        for loop in loops:
            loop.signal_stop()
        self.processor.stop()
        for loop in loops:
            loop.stop(max(0.1, deadline - time.monotonic()))
        # Lanes still busy (e.g. waiting for the fork server to start): hand back for them.
        self.processor.release_active()
        if self.workers is not None:
            self.queue.release_owned([lane.owner for lane in self.workers.lanes])
        self.processor.close()
        self.index.close()
        self.db.dispose()
        log.info("stopped in %.1f s", timeout - (deadline - time.monotonic()))
