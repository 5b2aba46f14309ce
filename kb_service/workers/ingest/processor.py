"""Processing one claimed ingest job: dedup, extract, chunk, embed, index, record.

Items are prepared (deduplicated, parsed and chunked: `preparation.py`; files in
parser processes with a time and memory limit) ahead on a helper thread while the
model embeds the previous batch (bounded by PREFETCH_CHUNKS); chunks of several
documents are embedded together so the model always gets full batches. A job that
has run for its time slice while another knowledge base's job waits, or whose
service is stopping, is handed back to the queue between items (`_run_items`).
Per item, the order of writes makes re-ingest atomic for searchers and every step
safe to repeat after a crash:

1. the item's target document and version are reserved and committed (`targets.py`:
   dedup by content hash, one document per external id or source);
2. the new version's points are upserted (deterministic ids; searches ignore points
   that are not committed chunk rows);
3. one transaction makes the version live if it is newer than the live one, swaps
   the chunk rows and marks the item done (`completion.py`, fenced on the job lease);
4. points of older versions of the document are deleted (newer reservations may be
   writing theirs); a version that lost to a newer one deletes its own points.

Searches show only points that are committed chunk rows (`services/liveness.py`).

A knowledge base deleted while its job runs ends the job `failed`; the points the
job wrote after the deletion are removed with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.errors import ParserStopped
from ingest.parser_pool import ParserPool
from ingest.pipeline import ChunkingConfig, IngestPipeline
from kb_service.db.base import utcnow
from kb_service.db.content import KnowledgeBase
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.observability import ingest as observe
from kb_service.statuses import ItemStatus
from kb_service.workers.ingest.completion import (
    fail_remaining,
    finish_job,
    record_failure,
    record_version,
)
from kb_service.workers.ingest.preparation import ItemPreparer, Preparation, PreparedItem
from kb_service.workers.ingest.queue import MAX_ATTEMPTS, JobQueue, LeaseLost
from kb_service.workers.ingest.stale import older_versions, sweep_stale_versions
from retrieval.index import PointFilter, VectorIndex
from retrieval.indexing import ChunkEmbedder, ChunkOrigin, build_points

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256
# Parsed-and-chunked documents waiting for the model: enough to fill the next batch
# while the current one is embedded.
PREFETCH_CHUNKS = 2 * EMBED_BATCH_CHUNKS


class KnowledgeBaseGone(Exception):
    """The job's knowledge base was deleted while the job ran."""


class JobProcessor:
    """Runs claimed jobs to completion with one shared pipeline and index."""

    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        pipeline: IngestPipeline,
        parsers: ParserPool,
        chunk_embedder: ChunkEmbedder,
        index: VectorIndex,
        time_slice_seconds: float = 30.0,
    ) -> None:
        self.db = db
        self.queue = queue
        self.pipeline = pipeline
        self.chunk_embedder = chunk_embedder
        self.index = index
        self.time_slice = time_slice_seconds
        self.preparer = ItemPreparer(
            db=db, queue=queue, pipeline=pipeline, parsers=parsers, budget=PREFETCH_CHUNKS
        )
        self._stopping = threading.Event()
        self._active: dict[str, tuple[str, Preparation]] = {}  # job id: (worker, preparation)
        self._active_lock = threading.Lock()

    def process(self, job_id: str, worker_id: str) -> None:
        with self.db.session() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            kb = session.get(KnowledgeBase, job.knowledge_base_id)
            ended = None
            if kb is None:
                self._abandon_deleted_kb(session, job, worker_id)
                ended = "its knowledge base was deleted"
            elif job.attempts > MAX_ATTEMPTS:
                reason = (
                    f"The job was abandoned after {MAX_ATTEMPTS} attempts (workers kept dying)."
                )
                fail_remaining(session, job, reason)
                self.queue.fence(session, job_id, worker_id)
                finish_job(session, job)
                ended = "its workers kept dying"
            if ended:
                done = observe.finished_fields(job)
            else:
                assert kb is not None
                config = ChunkingConfig(kb.chunk_max_tokens, kb.chunk_overlap_tokens)
                payload = {
                    "organization_id": kb.organization_id,
                    "knowledge_base_id": kb.id,
                    "project_id": kb.project_id,
                }
                pending = session.scalars(
                    select(IngestItem.id)
                    .where(IngestItem.job_id == job_id, IngestItem.status == ItemStatus.PENDING)
                    .order_by(IngestItem.position)
                ).all()
        if ended:  # committed
            observe.job_transition(job_id, reason=ended, **done)
            return
        sweep_stale_versions(self.db, self.index, job_id)

        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self.queue.keep_alive, args=(job_id, worker_id, stop), daemon=True
        )
        heartbeat.start()
        preparation = self.preparer.start(job_id, pending, worker_id, config)
        with self._active_lock:
            self._active[job_id] = (worker_id, preparation)
        try:
            if not self._run_items(job_id, worker_id, preparation, payload):
                return  # handed back
            with self.db.session() as session:
                self.queue.fence(session, job_id, worker_id)
                job = session.get(IngestJob, job_id)
                assert job is not None
                finish_job(session, job)
                done = observe.finished_fields(job)
            observe.job_transition(job_id, reason="its documents were processed", **done)
        except KnowledgeBaseGone:
            with self.db.session() as session:
                job = session.get(IngestJob, job_id)
                assert job is not None
                self._abandon_deleted_kb(session, job, worker_id)
                done = observe.finished_fields(job)
            observe.job_transition(job_id, reason="its knowledge base was deleted", **done)
        finally:
            with self._active_lock:
                self._active.pop(job_id, None)
            preparation.close()
            stop.set()

    def _run_items(
        self, job_id: str, worker_id: str, preparation: Preparation, payload: Mapping[str, Any]
    ) -> bool:
        """Index every prepared item; False when the job was handed back instead.

        Between items the job is handed back (`JobQueue.release`) when the service is
        stopping (the batch not yet embedded is dropped, its parse attempts given back)
        or when it has run for its time slice while another knowledge base's job waits
        (the batch is indexed first).
        """
        batch: list[PreparedItem] = []
        slice_ends = time.monotonic() + self.time_slice
        try:
            for ready in preparation:
                if self._stopping.is_set():
                    raise ParserStopped()
                if ready.prepared is None:
                    self._record_failure(job_id, worker_id, ready)
                else:
                    batch.append(ready)
                if sum(len(r.prepared.chunks) for r in batch if r.prepared) >= EMBED_BATCH_CHUNKS:
                    self._index_batch(job_id, worker_id, batch, payload)
                    batch = []
                if time.monotonic() > slice_ends:
                    if self.queue.others_waiting(job_id):
                        preparation.close()
                        self._index_batch(job_id, worker_id, batch, payload)
                        self._hand_back(job_id, worker_id, preparation, "its time slice ended")
                        return False
                    slice_ends = time.monotonic() + self.time_slice
        except ParserStopped:
            preparation.close()
            self._hand_back(job_id, worker_id, preparation, "the service is stopping")
            return False
        self._index_batch(job_id, worker_id, batch, payload)
        return True

    def _hand_back(self, job_id: str, worker_id: str, preparation: Preparation, why: str) -> None:
        if self.queue.release(job_id, worker_id, give_back=preparation.counted):
            observe.job_transition(
                job_id, status="queued", reason=f"handed back to the queue: {why}"
            )

    def stop(self) -> None:
        """The service is stopping: kill running parses; jobs are handed back at once."""
        self._stopping.set()
        self.preparer.parsers.stop()

    def release_active(self) -> None:
        """Hand back the jobs still in progress (their workers did not stop in time)."""
        with self._active_lock:
            active = list(self._active.items())
        for job_id, (worker_id, preparation) in active:
            self._hand_back(job_id, worker_id, preparation, "its worker did not stop in time")

    def _index_batch(
        self, job_id: str, worker_id: str, batch: list[PreparedItem], payload: Mapping[str, Any]
    ) -> None:
        """Embed, upsert and commit `batch`; `payload`: the knowledge base's ids."""
        if not batch:
            return
        drafts = [c for r in batch if r.prepared for c in r.prepared.chunks]
        with observe.stage("embed"):
            vectors = self.chunk_embedder.embed(drafts)
        offset = 0
        for ready in batch:
            assert ready.prepared is not None
            observe.prepared(ready.prepared)
            chunks = ready.prepared.chunks
            target = ready.target
            extracted = ready.prepared.extracted
            origin = ChunkOrigin.document(
                **payload,
                document_id=target.document_id,
                source_type=extracted.source_type,
                created_at=utcnow().timestamp(),
            )
            points = build_points(origin, chunks, vectors, version=target.version, offset=offset)
            offset += len(chunks)
            with observe.stage("index"):
                self.index.upsert(points)
            with observe.stage("commit"):
                outcome = self._commit_document(job_id, worker_id, ready)
            observe.document_done(outcome, extracted.source_type, len(chunks))
            if outcome == ItemStatus.INDEXED:
                # Older versions go; newer reservations may be writing their points now.
                self.index.delete(older_versions(target.document_id, target.version))
            else:
                self.index.delete(
                    PointFilter.where(document_id=target.document_id, version=target.version)
                )

    def _commit_document(self, job_id: str, worker_id: str, ready: PreparedItem) -> ItemStatus:
        """Record the item's version; `indexed` when it became the document's live version."""
        assert ready.prepared is not None
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            item = session.get(IngestItem, ready.target.item_id)
            job = session.get(IngestJob, job_id)
            assert item is not None and job is not None
            if session.get(KnowledgeBase, job.knowledge_base_id) is None:
                raise KnowledgeBaseGone(job.knowledge_base_id)
            record_version(session, job, item, ready.target, ready.prepared)
            return ItemStatus(item.status)

    def _record_failure(self, job_id: str, worker_id: str, ready: PreparedItem) -> None:
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            item = session.get(IngestItem, ready.target.item_id)
            job = session.get(IngestJob, job_id)
            assert item is not None and job is not None
            record_failure(session, job, item, ready.target, ready.error)
        observe.document_done("failed")

    def _abandon_deleted_kb(self, session: Session, job: IngestJob, worker_id: str) -> None:
        """Fail what is left of a job whose knowledge base was deleted, and drop its vectors.

        Deleting the knowledge base removed the vectors it knew of; this job may have
        written more since (upserts precede the metadata commit), so they go here.
        """
        self.index.delete(
            PointFilter.where(
                organization_id=job.organization_id, knowledge_base_id=job.knowledge_base_id
            )
        )
        self.queue.fence(session, job.id, worker_id)
        fail_remaining(session, job, "The knowledge base was deleted before the job finished.")
        finish_job(session, job)

    def close(self) -> None:
        self.preparer.close()


__all__ = ["JobProcessor", "LeaseLost"]
