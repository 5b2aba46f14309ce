"""API keys and the caller's workspace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kb_service.api.deps import DB, DEFAULT_LIMIT, Admin, AppSettings, Cursor, Limit, Reader
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.identity import ApiKeyIn, ApiKeyOut, ApiKeyRotateIn, WorkspaceOut
from kb_service.services import keys

router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)
_NO_ROTATE_BODY = ApiKeyRotateIn()  # no body: rotate without a grace period


@router.post("/api-keys", status_code=201, response_model=Envelope[ApiKeyOut])
def create_api_key(body: ApiKeyIn, principal: Admin, db: DB) -> Any:
    """Create an API key; its secret is shown in this response only."""
    key, secret = keys.create_api_key(
        db,
        organization_id=principal.organization_id,
        role=body.role,
        name=body.name,
        member_id=body.member_id,
        expires_at=body.expires_at,
        scopes=body.scopes.model_dump() if body.scopes is not None else None,
    )
    return ok(ApiKeyOut.of(key, secret).model_dump(mode="json"))


@router.get("/api-keys", response_model=ListEnvelope[ApiKeyOut])
def list_api_keys(
    principal: Admin, db: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Any:
    """List the organization's API keys (never their secrets)."""
    found = keys.list_api_keys(
        db, organization_id=principal.organization_id, limit=limit, cursor=cursor
    )
    return page([ApiKeyOut.of(k).model_dump(mode="json") for k in found.items], found.next_cursor)


@router.post("/api-keys/{key_id}/rotate", response_model=Envelope[ApiKeyOut])
def rotate_api_key(
    key_id: str,
    principal: Admin,
    db: DB,
    settings: AppSettings,
    body: ApiKeyRotateIn = _NO_ROTATE_BODY,
) -> Any:
    """A new secret for the key, shown once; the old one works for `grace_seconds`."""
    key, secret = keys.rotate_api_key(
        db,
        organization_id=principal.organization_id,
        key_id=key_id,
        grace_seconds=body.grace_seconds,
        max_grace=settings.api.key_rotation_max_grace_seconds,
    )
    return ok(ApiKeyOut.of(key, secret).model_dump(mode="json"))


@router.delete("/api-keys/{key_id}", response_model=Envelope[ApiKeyOut])
def revoke_api_key(key_id: str, principal: Admin, db: DB) -> Any:
    """Revoke an API key; it stops working on the next request."""
    key = keys.revoke_api_key(db, organization_id=principal.organization_id, key_id=key_id)
    return ok(ApiKeyOut.of(key).model_dump(mode="json"))


@router.get("/workspaces/me", response_model=Envelope[WorkspaceOut])
def my_workspace(principal: Reader, db: DB) -> Any:
    """The caller's organization and role."""
    org = keys.get_organization(db, organization_id=principal.organization_id)
    return ok(
        WorkspaceOut(
            organization_id=org.id,
            organization_name=org.name,
            key_id=principal.key_id,
            member_id=principal.member_id,
            role=principal.role,
        ).model_dump(mode="json")
    )
