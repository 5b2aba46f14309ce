"""Web sources of a knowledge base, kept in sync on demand or on a schedule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, AppSettings, Cursor, Limit, Reader, Writer
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.sources import SourceIn, SourceOut, SyncIn, SyncOut
from kb_service.services import sources as service
from kb_service.sources.fetch import UrlGuard

router = APIRouter(tags=["web sources"], route_class=StrictJsonRoute)
_NO_SYNC_BODY = SyncIn()  # no body: a sync that stops at the deletion safety share


@router.post(
    "/knowledge-bases/{kb_id}/sources", status_code=201, response_model=Envelope[SourceOut]
)
def create_source(
    kb_id: str, body: SourceIn, principal: Writer, db: DB, settings: AppSettings
) -> Any:
    """Add a URL (crawled within its site) or a sitemap; with a schedule it syncs at once."""
    created = service.create_source(
        db,
        organization_id=principal.organization_id,
        kb_id=kb_id,
        type=body.type,
        url=body.url,
        interval_minutes=body.schedule.interval_minutes if body.schedule else None,
        include=body.include,
        exclude=body.exclude,
        max_pages=body.max_pages or settings.sources.max_pages,
        guard=UrlGuard.from_settings(settings),
    )
    return ok(SourceOut.of(created).model_dump(mode="json"))


@router.get("/knowledge-bases/{kb_id}/sources", response_model=ListEnvelope[SourceOut])
def list_sources(
    kb_id: str, principal: Reader, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """The knowledge base's sources, oldest first, each with its latest sync."""
    found = service.list_sources(
        db, organization_id=principal.organization_id, kb_id=kb_id, limit=limit, cursor=cursor
    )
    return page([SourceOut.of(s).model_dump(mode="json") for s in found.items], found.next_cursor)


@router.get("/sources/{source_id}", response_model=Envelope[SourceOut])
def get_source(source_id: str, principal: Reader, db: DB) -> Any:
    """A source with its schedule and latest sync."""
    found = service.get_source(db, organization_id=principal.organization_id, source_id=source_id)
    return ok(SourceOut.of(found).model_dump(mode="json"))


@router.delete("/sources/{source_id}", response_model=Envelope[dict[str, Any]])
def delete_source(source_id: str, principal: Writer, db: DB) -> Any:
    """Stop syncing a source; the documents it brought stay in the knowledge base."""
    service.delete_source(db, organization_id=principal.organization_id, source_id=source_id)
    return ok({"id": source_id, "deleted": True})


@router.post("/sources/{source_id}/sync", status_code=202, response_model=Envelope[SyncOut])
def sync_source(source_id: str, principal: Writer, db: DB, body: SyncIn = _NO_SYNC_BODY) -> Any:
    """Queue a sync now (the one already queued or running, if any); returns the sync job."""
    sync = service.request_sync(
        db,
        organization_id=principal.organization_id,
        source_id=source_id,
        allow_mass_delete=body.allow_mass_delete,
    )
    return ok(SyncOut.of(sync).model_dump(mode="json"))


@router.get("/sources/{source_id}/syncs", response_model=ListEnvelope[SyncOut])
def list_syncs(
    source_id: str,
    principal: Reader,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """A source's syncs, newest first, with their counts."""
    found = service.list_syncs(
        db,
        organization_id=principal.organization_id,
        source_id=source_id,
        limit=limit,
        cursor=cursor,
    )
    return page([SyncOut.of(s).model_dump(mode="json") for s in found.items], found.next_cursor)
