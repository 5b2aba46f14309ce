"""Processing one claimed ingest job: dedup, extract, chunk, embed, index, record.

Items are prepared (parsed and chunked) ahead on a helper thread while the model
embeds the previous batch (bounded by PREFETCH_CHUNKS); chunks of several documents
are embedded together so the model always gets full batches. Per item, the order of
writes makes re-ingest atomic for searchers and every step safe to repeat after a crash:

1. the item's target document and version are reserved and committed (`targets.py`:
   dedup by content hash, one document per external id or source);
2. the new version's points are upserted (deterministic ids; searches ignore points
   that are not committed chunk rows);
3. one transaction makes the version live if it is newer than the live one, swaps
   the chunk rows and marks the item done (fenced on the job lease);
4. points of older versions of the document are deleted (newer reservations may be
   writing theirs); a version that lost to a newer one deletes its own points.

Versions are reserved in SQL (`targets.py`), so concurrent jobs never share one, and
a version only goes live if it is newer than the live one; searches show only points
that are committed chunk rows (`services/liveness.py`).

A knowledge base deleted while its job runs ends the job `failed`; the points the
job wrote after the deletion are removed with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ingest.documents import SourceFile
from ingest.errors import IngestError
from ingest.pipeline import ChunkingConfig, IngestPipeline, PreparedDocument
from kb_service.db.base import utcnow
from kb_service.db.content import Chunk, Document, KnowledgeBase
from kb_service.db.database import Database
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.workers.ingest.completion import finish_job
from kb_service.workers.ingest.prefetch import PrefetchBuffer
from kb_service.workers.ingest.queue import MAX_ATTEMPTS, JobQueue, LeaseLost
from kb_service.workers.ingest.targets import (
    Target,
    commit_version,
    release_version,
    resolve_target,
)
from retrieval.index import FieldMatch, FieldRange, PointFilter, VectorIndex
from retrieval.indexing import ChunkEmbedder, ChunkOrigin, build_points, chunk_id, point_id

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256
# Parsed-and-chunked documents waiting for the model: enough to fill the next batch
# while the current one is embedded.
PREFETCH_CHUNKS = 2 * EMBED_BATCH_CHUNKS


class KnowledgeBaseGone(Exception):
    """The job's knowledge base was deleted while the job ran."""


@dataclass
class _Ready:
    target: Target
    prepared: PreparedDocument | None
    error: str | None


class JobProcessor:
    """Runs claimed jobs to completion with one shared pipeline and index."""

    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        pipeline: IngestPipeline,
        chunk_embedder: ChunkEmbedder,
        index: VectorIndex,
    ) -> None:
        self.db = db
        self.queue = queue
        self.pipeline = pipeline
        self.chunk_embedder = chunk_embedder
        self.index = index
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-prepare")

    def process(self, job_id: str, worker_id: str) -> None:
        with self.db.session() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            kb = session.get(KnowledgeBase, job.knowledge_base_id)
            if kb is None:
                self._abandon_deleted_kb(session, job, worker_id)
                return
            if job.attempts > MAX_ATTEMPTS:
                reason = (
                    f"The job was abandoned after {MAX_ATTEMPTS} attempts (workers kept dying)."
                )
                self._fail_remaining(session, job, reason)
                self.queue.fence(session, job_id, worker_id)
                finish_job(session, job)
                return
            config = ChunkingConfig(kb.chunk_max_tokens, kb.chunk_overlap_tokens)
            organization_id = kb.organization_id
            payload = {
                "organization_id": organization_id,
                "knowledge_base_id": kb.id,
                "project_id": kb.project_id,
            }
            pending = session.scalars(
                select(IngestItem.id)
                .where(IngestItem.job_id == job_id, IngestItem.status == "pending")
                .order_by(IngestItem.position)
            ).all()
        self._sweep_stale_versions(job_id)

        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(job_id, worker_id, stop), daemon=True
        )
        heartbeat.start()
        try:
            batch: list[_Ready] = []
            for ready in self._prepared(job_id, pending, worker_id, config):
                if ready.prepared is None:
                    self._record_failure(job_id, worker_id, ready)
                    continue
                batch.append(ready)
                if sum(len(r.prepared.chunks) for r in batch if r.prepared) >= EMBED_BATCH_CHUNKS:
                    self._index_batch(job_id, worker_id, batch, payload)
                    batch = []
            self._index_batch(job_id, worker_id, batch, payload)
            with self.db.session() as session:
                self.queue.fence(session, job_id, worker_id)
                job = session.get(IngestJob, job_id)
                assert job is not None
                finish_job(session, job)
        except KnowledgeBaseGone:
            with self.db.session() as session:
                job = session.get(IngestJob, job_id)
                assert job is not None
                self._abandon_deleted_kb(session, job, worker_id)
        finally:
            stop.set()

    # -- preparation (helper thread) -------------------------------------------------

    def _prepared(
        self, job_id: str, item_ids: Sequence[str], worker_id: str, config: ChunkingConfig
    ) -> Iterator[_Ready]:
        """Prepared items in order; parsing runs ahead of the model by PREFETCH_CHUNKS."""
        buffer: PrefetchBuffer[_Ready] = PrefetchBuffer(PREFETCH_CHUNKS)
        producer = self._prefetch.submit(self._produce, job_id, item_ids, worker_id, config, buffer)
        try:
            while (ready := buffer.get()) is not None:
                yield ready
            producer.result()  # a failure of the producer (e.g. LeaseLost) surfaces here
        finally:
            buffer.close()

    def _produce(
        self,
        job_id: str,
        item_ids: Sequence[str],
        worker_id: str,
        config: ChunkingConfig,
        buffer: PrefetchBuffer[_Ready],
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
    ) -> _Ready | None:
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
                return _Ready(target, None, "The document contains no text to index.")
            return _Ready(target, prepared, None)
        except IngestError as exc:
            return _Ready(target, None, str(exc))
        except Exception:
            log.exception("unexpected failure preparing item %s", item_id)
            return _Ready(target, None, "The document could not be processed (internal error).")

    # -- indexing (worker thread) ----------------------------------------------------

    def _index_batch(
        self, job_id: str, worker_id: str, batch: list[_Ready], payload: Mapping[str, Any]
    ) -> None:
        """Embed, upsert and commit `batch`; `payload`: the knowledge base's ids."""
        if not batch:
            return
        drafts = [c for r in batch if r.prepared for c in r.prepared.chunks]
        vectors = self.chunk_embedder.embed(drafts)
        offset = 0
        for ready in batch:
            assert ready.prepared is not None
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
            self.index.upsert(points)
            if self._commit_document(job_id, worker_id, ready):
                # Older versions go; newer reservations may be writing their points now.
                self.index.delete(_older_versions(target.document_id, target.version))
            else:
                self.index.delete(
                    PointFilter.where(document_id=target.document_id, version=target.version)
                )

    def _commit_document(self, job_id: str, worker_id: str, ready: _Ready) -> bool:
        """Record the item's version; True when it became the document's live version."""
        assert ready.prepared is not None
        target, extracted, chunks = ready.target, ready.prepared.extracted, ready.prepared.chunks
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            item = session.get(IngestItem, target.item_id)
            job = session.get(IngestJob, job_id)
            assert item is not None and job is not None
            if session.get(KnowledgeBase, job.knowledge_base_id) is None:
                raise KnowledgeBaseGone(job.knowledge_base_id)
            outcome = commit_version(session, target, item.content_hash)
            job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]
            item.content = None
            if outcome == "gone":
                item.status = "failed"
                item.error = "The document was deleted while this version was being ingested."
                return False
            if outcome != "live":
                # "unchanged": a concurrent upload committed the same content first;
                # "superseded": a newer version of the document is already live.
                item.status = "unchanged" if outcome == "unchanged" else "superseded"
                return False
            document = session.get(Document, target.document_id, populate_existing=True)
            assert document is not None
            now = utcnow()
            document.title = item.title or extracted.title or (item.filename or "Untitled")
            document.source = item.source_url or item.filename or document.title
            document.source_url = item.source_url
            document.source_type = extracted.source_type
            document.external_id = item.external_id
            document.content_hash = item.content_hash
            document.error = None
            document.chunk_count = len(chunks)
            document.char_count = len(extracted.text)
            document.text = extracted.text
            document.metadata_ = {**extracted.metadata, **(item.metadata_ or {})}
            document.updated_at = now
            session.execute(delete(Chunk).where(Chunk.document_id == target.document_id))
            for draft in chunks:
                pid = point_id(target.document_id, target.version, draft.ordinal)
                session.add(
                    Chunk(
                        id=chunk_id(pid),
                        point_id=pid,
                        document_id=target.document_id,
                        knowledge_base_id=job.knowledge_base_id,
                        organization_id=job.organization_id,
                        ordinal=draft.ordinal,
                        text=draft.text,
                        char_start=draft.char_start,
                        char_end=draft.char_end,
                        token_count=draft.token_count,
                        page_number=draft.page_number,
                        section=list(draft.section),
                        # ordinal order == (created_at, id) order, for keyset paging
                        created_at=now + timedelta(microseconds=draft.ordinal),
                    )
                )
            item.status = "indexed"
            item.chunk_count = len(chunks)
            job.chunks_indexed = IngestJob.chunks_indexed + len(chunks)  # type: ignore[assignment]
            return True

    def _record_failure(self, job_id: str, worker_id: str, ready: _Ready) -> None:
        with self.db.session() as session:
            self.queue.fence(session, job_id, worker_id)
            item = session.get(IngestItem, ready.target.item_id)
            job = session.get(IngestJob, job_id)
            assert item is not None and job is not None
            item.status = "failed"
            item.error = ready.error
            item.content = None
            if release_version(session, ready.target.document_id):
                item.document_id = None
                item.document_version = None
            job.documents_done = IngestJob.documents_done + 1  # type: ignore[assignment]

    def _fail_remaining(self, session: Session, job: IngestJob, reason: str) -> None:
        items = session.scalars(
            select(IngestItem).where(IngestItem.job_id == job.id, IngestItem.status == "pending")
        ).all()
        for item in items:
            item.status, item.error, item.content = "failed", reason, None
            if item.document_id is not None and item.document_version is not None:
                release_version(session, item.document_id)
            job.documents_done += 1
        job.error = reason

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
        self._fail_remaining(
            session, job, "The knowledge base was deleted before the job finished."
        )
        finish_job(session, job)

    def _sweep_stale_versions(self, job_id: str) -> None:
        """After a crash between commit and cleanup, drop the superseded versions' points."""
        with self.db.session() as session:
            rows = session.execute(
                select(Document.id, Document.version)
                .join(IngestItem, IngestItem.document_id == Document.id)
                .where(IngestItem.job_id == job_id, IngestItem.status == "indexed")
            ).all()
        for document_id, version in rows:
            self.index.delete(_older_versions(document_id, version))

    def _heartbeat(self, job_id: str, worker_id: str, stop: threading.Event) -> None:
        interval = self.queue.lease.total_seconds() / 3
        while not stop.wait(interval):
            try:
                if not self.queue.renew(job_id, worker_id):
                    return
            except Exception:  # a transient database error must not kill the heartbeat
                log.warning("lease renewal failed for %s", job_id, exc_info=True)

    def close(self) -> None:
        self._prefetch.shutdown(wait=True)


def _older_versions(document_id: str, version: int) -> PointFilter:
    """The document's points of versions below `version`."""
    return PointFilter(
        must=(FieldMatch("document_id", (document_id,)), FieldRange("version", lte=version - 1))
    )


__all__ = ["JobProcessor", "LeaseLost"]
