"""Web sources of a knowledge base: create, list, read, delete, and queue their syncs.

A sync is queued on demand (`request_sync`) or by the source's schedule
(`queue_scheduled_sync`, fired by `workers.scheduler`); either way a source has at
most one sync queued or running, and asking again returns that one. The sync itself
runs in the background (`workers/sources`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_service.db.base import iso_z, utcnow
from kb_service.db.database import Database, Wake, wake_after_commit
from kb_service.db.pagination import Page, paginate
from kb_service.db.sources import SourceSync, WebSource
from kb_service.errors import InvalidInput, NotFound
from kb_service.services.knowledge_bases import load_kb
from kb_service.sources.fetch import RefusedUrl, UrlGuard
from kb_service.statuses import SourceType, SyncStatus, SyncTrigger


@dataclass(frozen=True)
class SourceWithSync:
    """A source and its latest sync (None before the first)."""

    source: WebSource
    last_sync: SourceSync | None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def sync_view(sync: SourceSync) -> dict[str, Any]:
    """A sync as the API and the `source.synced` event show it."""
    return {
        "id": sync.id,
        "source_id": sync.source_id,
        "knowledge_base_id": sync.knowledge_base_id,
        "trigger": sync.trigger,
        "scheduled_for": _iso(sync.scheduled_for),
        "status": sync.status,
        "counts": {
            "fetched": sync.pages_fetched,
            "created": sync.pages_created,
            "unchanged": sync.pages_unchanged,
            "updated": sync.pages_updated,
            "deleted": sync.pages_deleted,
            "failed": sync.pages_failed,
            "skipped": sync.pages_skipped,
        },
        "failures": list(sync.failures),
        "ingest_job_ids": list(sync.ingest_job_ids),
        "error": sync.error,
        "created_at": _iso(sync.created_at),
        "started_at": _iso(sync.started_at),
        "finished_at": _iso(sync.finished_at),
    }


def create_source(
    db: Database,
    *,
    organization_id: str,
    kb_id: str,
    type: SourceType,
    url: str,
    interval_minutes: int | None,
    include: list[str],
    exclude: list[str],
    max_pages: int,
    guard: UrlGuard,
) -> SourceWithSync:
    """A new source; with a schedule, its first slot is now (it syncs at once)."""
    try:
        guard.vet(url)
    except RefusedUrl as exc:
        raise InvalidInput(
            str(exc), errors=[{"field": "url", "message": str(exc), "type": "value_error"}]
        ) from None
    now = utcnow()
    with db.session() as session:
        kb = load_kb(session, organization_id=organization_id, kb_id=kb_id)
        source = WebSource(
            organization_id=organization_id,
            knowledge_base_id=kb.id,
            type=type,
            url=url,
            include=include,
            exclude=exclude,
            max_pages=max_pages,
            interval_minutes=interval_minutes,
            next_run_at=now if interval_minutes else None,
            created_at=now,
        )
        session.add(source)
        session.flush()
    return SourceWithSync(source, None)


def list_sources(
    db: Database, *, organization_id: str, kb_id: str, limit: int, cursor: str | None
) -> Page[SourceWithSync]:
    """The knowledge base's sources, oldest first, each with its latest sync."""
    with db.session() as session:
        load_kb(session, organization_id=organization_id, kb_id=kb_id)
        page = paginate(
            session,
            select(WebSource).where(WebSource.knowledge_base_id == kb_id),
            created_at=WebSource.created_at,
            row_id=WebSource.id,
            limit=limit,
            cursor=cursor,
        )
        items = [SourceWithSync(s, _latest_sync(session, s.id)) for s in page.items]
        return Page(items, page.next_cursor)


def _load_source(session: Session, *, organization_id: str, source_id: str) -> WebSource:
    source = session.get(WebSource, source_id)
    if source is None or source.organization_id != organization_id:
        raise NotFound.of("source", source_id)
    return source


def _latest_sync(session: Session, source_id: str) -> SourceSync | None:
    return session.scalars(
        select(SourceSync)
        .where(SourceSync.source_id == source_id)
        .order_by(SourceSync.created_at.desc(), SourceSync.id.desc())
        .limit(1)
    ).first()


def get_source(db: Database, *, organization_id: str, source_id: str) -> SourceWithSync:
    """A source of the organization with its latest sync (else `NotFound`)."""
    with db.session() as session:
        source = _load_source(session, organization_id=organization_id, source_id=source_id)
        return SourceWithSync(source, _latest_sync(session, source.id))


def delete_source(db: Database, *, organization_id: str, source_id: str) -> None:
    """Delete the source and its sync history; its documents stay in the knowledge base."""
    with db.session() as session:
        session.delete(_load_source(session, organization_id=organization_id, source_id=source_id))


def request_sync(
    db: Database, *, organization_id: str, source_id: str, allow_mass_delete: bool = False
) -> SourceSync:
    """Queue a sync now; the source's sync already queued or running, if there is one."""
    with db.session() as session:
        source = _load_source(session, organization_id=organization_id, source_id=source_id)
        active = _active_sync(session, source.id)
        if active is not None:
            return active
        return _queue(session, source, SyncTrigger.MANUAL, None, allow_mass_delete)


def queue_scheduled_sync(session: Session, source: WebSource, slot: datetime) -> None:
    """A schedule slot of `source` came due: queue its sync, unless one is already active."""
    if _active_sync(session, source.id) is None:
        _queue(session, source, SyncTrigger.SCHEDULE, slot, False)


def _active_sync(session: Session, source_id: str) -> SourceSync | None:
    return session.scalars(
        select(SourceSync).where(
            SourceSync.source_id == source_id, SourceSync.status.in_(SyncStatus.active())
        )
    ).first()


def _queue(
    session: Session,
    source: WebSource,
    trigger: SyncTrigger,
    slot: datetime | None,
    allow_mass_delete: bool,
) -> SourceSync:
    sync = SourceSync(
        source_id=source.id,
        organization_id=source.organization_id,
        knowledge_base_id=source.knowledge_base_id,
        trigger=trigger,
        scheduled_for=slot,
        allow_mass_delete=allow_mass_delete,
        status=SyncStatus.QUEUED,
        failures=[],
        ingest_job_ids=[],
        created_at=utcnow(),
    )
    session.add(sync)
    session.flush()
    wake_after_commit(session, Wake.SOURCES)
    return sync


def list_syncs(
    db: Database, *, organization_id: str, source_id: str, limit: int, cursor: str | None
) -> Page[SourceSync]:
    """A source's syncs, newest first."""
    with db.session() as session:
        _load_source(session, organization_id=organization_id, source_id=source_id)
        return paginate(
            session,
            select(SourceSync).where(SourceSync.source_id == source_id),
            created_at=SourceSync.created_at,
            row_id=SourceSync.id,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
