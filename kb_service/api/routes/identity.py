"""API keys and the caller's workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kb_service.api.deps import DB, Admin, Reader
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from kb_service.db.identity import ApiKey, Organization
from kb_service.services import keys

router = APIRouter(tags=["identity"])


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    role: Literal["admin", "writer", "reader"] = "reader"


class ApiKeyOut(BaseModel):
    id: str
    name: str | None
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(default=None, description="The secret; only in the creation response.")

    @classmethod
    def of(cls, key: ApiKey, secret: str | None = None) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            prefix=key.key_prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            key=secret,
        )


class WorkspaceOut(BaseModel):
    organization_id: str
    organization_name: str
    key_id: str
    role: str


@router.post("/api-keys", status_code=201, response_model=Envelope[ApiKeyOut])
def create_api_key(body: ApiKeyIn, principal: Admin, db: DB) -> Any:
    """Create an API key; its secret is shown in this response only."""
    with db.session() as session:
        key, secret = keys.create_api_key(
            session, organization_id=principal.organization_id, role=body.role, name=body.name
        )
        return ok(ApiKeyOut.of(key, secret).model_dump(mode="json"))


@router.get("/api-keys", response_model=ListEnvelope[ApiKeyOut])
def list_api_keys(
    principal: Admin,
    db: DB,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Any:
    """List the organization's API keys (never their secrets)."""
    with db.session() as session:
        rows, next_cursor = paginate(
            session,
            select(ApiKey).where(ApiKey.organization_id == principal.organization_id),
            created_at=ApiKey.created_at,
            row_id=ApiKey.id,
            limit=limit,
            cursor=cursor,
        )
        return page([ApiKeyOut.of(k).model_dump(mode="json") for k in rows], next_cursor)


@router.delete("/api-keys/{key_id}", response_model=Envelope[ApiKeyOut])
def revoke_api_key(key_id: str, principal: Admin, db: DB) -> Any:
    """Revoke an API key; it stops working on the next request."""
    with db.session() as session:
        key = keys.revoke_api_key(session, organization_id=principal.organization_id, key_id=key_id)
        return ok(ApiKeyOut.of(key).model_dump(mode="json"))


@router.get("/workspaces/me", response_model=Envelope[WorkspaceOut])
def my_workspace(principal: Reader, db: DB) -> Any:
    """The caller's organization and role."""
    with db.session() as session:
        org = session.get(Organization, principal.organization_id)
        assert org is not None
        return ok(
            WorkspaceOut(
                organization_id=org.id,
                organization_name=org.name,
                key_id=principal.key_id,
                role=principal.role,
            ).model_dump(mode="json")
        )
