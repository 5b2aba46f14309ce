"""Running one claimed source sync: plan it over the network, then apply it at once.

The plan (`sources.plan.plan_sync`) fetches every page and writes nothing; the worker
renews its lease meanwhile. Then one transaction, fenced on the lease, applies it:

| the plan | what is written |
|---|---|
| the sitemap could not be read | sync `failed`; nothing else |
| deletes more than `max_delete_share` of the kept pages (and the sync does not allow it) | sync `stopped`, how many pages it would delete in its error; nothing else |
| otherwise | kept pages' validators and hashes; gone pages and their documents deleted; one ingest job (per 1,000) of the new and changed pages' text; sync `completed` |

A page kept by an earlier sync whose document is missing, and which no recent sync's
ingest job is still ingesting (its ingestion failed, or its text duplicated another
document's), is fetched and queued again, as `updated`. Every outcome writes a `source.synced` outbox event in the same transaction. A
worker that dies mid-sync has applied nothing; its lease expires, the sync is claimed
again and planned afresh, so pages are never ingested or deleted twice; a worker
whose service is stopping hands the sync back between two pages. The deleted
documents' vectors go after the commit, under tombstones written with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.content import Document, TombstoneScope
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.jobs import IngestItem
from kb_service.db.sources import SourcePage, SourceSync, WebSource
from kb_service.services import tombstones
from kb_service.services.documents import delete_document_rows
from kb_service.services.ingestion import MAX_DOCUMENTS_PER_JOB, queue_records
from kb_service.services.sources import sync_view
from kb_service.services.uploads import TextRecord
from kb_service.sources.fetch import FetchPolicy
from kb_service.sources.listing import ListingFailed
from kb_service.sources.pages import KnownPage, PageOutcome, document_key, url_hash
from kb_service.sources.plan import SourceSpec, SyncPlan, plan_sync
from kb_service.statuses import ItemStatus, SyncStatus
from kb_service.workers.ingest.targets import identity_key
from kb_service.workers.sources.queue import MAX_ATTEMPTS, LeaseLost, SyncQueue
from retrieval.index import VectorIndex

MAX_FAILURES_LISTED = 50
# A page being ingested by one of this many latest syncs counts as present.
RECENT_SYNCS = 20


class _Abandoned(Exception):
    """The service is stopping: the sync goes back to the queue unapplied."""


class SourceSyncer:
    """Runs claimed syncs (see the module docstring)."""

    def __init__(
        self, *, db: Database, index: VectorIndex, queue: SyncQueue, policy: FetchPolicy
    ) -> None:
        self.db = db
        self.index = index
        self.queue = queue
        self.policy = policy

    def run(
        self,
        sync_id: str,
        owner: str,
        attempts: int,
        stopping: Callable[[], bool] = lambda: False,
    ) -> SyncStatus | None:
        """Plan and apply the sync `owner` has claimed; its final status (None: not applied).

        When `stopping()` turns true (the service is shutting down) the sync is handed
        back to the queue between two pages, unapplied, for another worker to redo.
        """
        loaded = self._load(sync_id)
        if loaded is None:
            return None
        spec, known = loaded
        if attempts > MAX_ATTEMPTS:
            error = f"The sync was interrupted {attempts - 1} times (its worker stopped each time)."
            return self._finish(sync_id, owner, spec, SyncPlan(), error=error)
        stop = threading.Event()
        keeper = threading.Thread(
            target=self.queue.keep_alive, args=(sync_id, owner, stop), daemon=True
        )
        keeper.start()
        fetcher = self.policy.fetcher()

        def between_pages() -> None:
            if stopping():
                raise _Abandoned

        try:
            plan = plan_sync(spec, known, fetcher, on_page=between_pages)
        except ListingFailed as exc:
            return self._finish(sync_id, owner, spec, SyncPlan(), error=str(exc))
        except _Abandoned:
            self.queue.release(sync_id, owner)
            return None
        finally:
            fetcher.close()
            stop.set()
        return self._finish(sync_id, owner, spec, plan)

    def _load(self, sync_id: str) -> tuple[SourceSpec, dict[str, KnownPage]] | None:
        with self.db.session() as session:
            sync = session.get(SourceSync, sync_id)
            source = session.get(WebSource, sync.source_id) if sync else None
            if source is None:
                return None
            spec = SourceSpec(
                id=source.id,
                type=source.type,
                url=source.url,
                include=tuple(source.include),
                exclude=tuple(source.exclude),
                max_pages=source.max_pages,
            )
            pages = list(
                session.scalars(select(SourcePage).where(SourcePage.source_id == source.id))
            )
            present = _documents_of(session, source)
            known = {
                p.url: KnownPage(p.etag, p.last_modified, p.content_hash, p.final_url, p.links)
                if _page_key(source, p.url) in present
                # its document is missing (its ingestion failed): fetch and ingest it again
                else KnownPage(None, None, "", p.final_url, p.links)
                for p in pages
            }
            return spec, known

    def _finish(
        self, sync_id: str, owner: str, spec: SourceSpec, plan: SyncPlan, error: str | None = None
    ) -> SyncStatus | None:
        deleted: list[str] = []
        try:
            with self.db.session() as session:
                self.queue.fence(session, sync_id, owner)
                sync = session.get(SourceSync, sync_id)
                source = session.get(WebSource, spec.id)
                if sync is None or source is None:
                    return None
                _count(sync, plan)
                share = plan.deletion_share
                limit = self.policy.max_delete_share
                if error is not None:
                    sync.status, sync.error = SyncStatus.FAILED, error
                elif share > limit and not sync.allow_mass_delete:
                    sync.status = SyncStatus.STOPPED
                    sync.error = (
                        f"This sync would delete {len(plan.to_delete)} of the source's "
                        f"{plan.known_count} pages ({share:.0%}), more than the {limit:.0%} "
                        "allowed (KB_SOURCE_MAX_DELETE_SHARE), so nothing was changed. Sync "
                        'again with {"allow_mass_delete": true} if the pages are really gone.'
                    )
                else:
                    deleted = _apply(session, source, sync, plan)
                    sync.status = SyncStatus.COMPLETED
                    sync.pages_deleted = len(plan.to_delete)
                sync.finished_at = utcnow()
                sync.lease_owner, sync.lease_expires_at = None, None
                session.flush()
                record_event(
                    session,
                    organization_id=sync.organization_id,
                    type="source.synced",
                    data=sync_view(sync),
                )
                status = sync.status
        except LeaseLost:
            return None
        for document_id in deleted:
            tombstones.remove_vectors(self.db, self.index, TombstoneScope.DOCUMENT, document_id)
        return status


def _count(sync: SourceSync, plan: SyncPlan) -> None:
    sync.pages_fetched = plan.fetched
    sync.pages_created = plan.count(PageOutcome.CREATED)
    sync.pages_updated = plan.count(PageOutcome.UPDATED)
    sync.pages_unchanged = plan.count(PageOutcome.UNCHANGED)
    sync.pages_failed = plan.count(PageOutcome.FAILED)
    sync.pages_skipped = plan.count(PageOutcome.SKIPPED)
    sync.pages_deleted = 0
    sync.failures = [
        {"url": r.url, "error": r.error} for r in plan.results if r.outcome == PageOutcome.FAILED
    ][:MAX_FAILURES_LISTED]


def _apply(session: Session, source: WebSource, sync: SourceSync, plan: SyncPlan) -> list[str]:
    """Write the plan (third row of the module's table); the deleted documents' ids."""
    rows = {
        p.url: p
        for p in session.scalars(select(SourcePage).where(SourcePage.source_id == source.id))
    }
    now = utcnow()
    for result in plan.results:
        if not result.kept:
            continue
        row = rows.get(result.url)
        if row is None:
            row = SourcePage(source_id=source.id, url=result.url, url_hash=url_hash(result.url))
            session.add(row)
        row.final_url, row.etag, row.last_modified = (
            result.final_url,
            result.etag,
            result.last_modified,
        )
        row.content_hash, row.links, row.updated_at = result.content_hash, result.links, now
    deleted = []
    for url in plan.to_delete:
        if url in rows:
            session.delete(rows[url])
        document = _page_document(session, source, url)
        if document is not None:
            delete_document_rows(session, document)
            deleted.append(document.id)
    records = [
        TextRecord(
            text=r.text,
            title=r.title or r.final_url,
            source_url=r.final_url,
            external_id=document_key(source.id, r.url),
            metadata={"source_id": source.id, "url": r.url},
        )
        for r in plan.changed
    ]
    for start in range(0, len(records), MAX_DOCUMENTS_PER_JOB):
        job = queue_records(
            session,
            organization_id=source.organization_id,
            kb_id=source.knowledge_base_id,
            records=records[start : start + MAX_DOCUMENTS_PER_JOB],
        )
        sync.ingest_job_ids = [*sync.ingest_job_ids, job.job.id]
    return deleted


def _page_key(source: WebSource, url: str) -> str | None:
    return identity_key(external_id=document_key(source.id, url), source_url=None, filename=None)


def _page_document(session: Session, source: WebSource, url: str) -> Document | None:
    key = _page_key(source, url)
    return session.scalars(
        select(Document).where(
            Document.knowledge_base_id == source.knowledge_base_id, Document.identity_key == key
        )
    ).first()


def _documents_of(session: Session, source: WebSource) -> set[str | None]:
    """Identities of the source's documents, and of pages its recent syncs still ingest."""
    keys: set[str | None] = set(
        session.scalars(
            select(Document.identity_key).where(
                Document.knowledge_base_id == source.knowledge_base_id,
                Document.identity_key.like(f"external_id:{source.id}:%"),
            )
        )
    )
    recent = session.scalars(
        select(SourceSync.ingest_job_ids)
        .where(SourceSync.source_id == source.id, SourceSync.status == SyncStatus.COMPLETED)
        .order_by(SourceSync.finished_at.desc())
        .limit(RECENT_SYNCS)
    )
    job_ids = [job_id for ids in recent for job_id in ids]
    if job_ids:
        pending = session.scalars(
            select(IngestItem.external_id).where(
                IngestItem.job_id.in_(job_ids), IngestItem.status == ItemStatus.PENDING
            )
        )
        keys |= {identity_key(external_id=e, source_url=None, filename=None) for e in pending}
    return keys
