"""Workspace members and invitations (admin), and accepting an invitation (its token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kb_service.api.deps import DB, DEFAULT_LIMIT, Admin, AppSettings, Cursor, Limit
from kb_service.api.envelope import Envelope, ListEnvelope, ok, page
from kb_service.api.json_body import StrictJsonRoute
from kb_service.api.schemas.identity import (
    AcceptIn,
    AcceptOut,
    ApiKeyOut,
    InvitationOut,
    InviteIn,
    MemberOut,
    MemberPatch,
)
from kb_service.services import members as service

router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)
# Mounted without the API-key dependency: the invitation token is the credential.
accept_router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)
_NO_ACCEPT_BODY = AcceptIn()  # no body: the member has no name


@router.post(
    "/workspaces/{workspace_id}/invite", status_code=201, response_model=Envelope[InvitationOut]
)
def invite(
    workspace_id: str,
    body: InviteIn,
    request: Request,
    principal: Admin,
    db: DB,
    settings: AppSettings,
) -> Any:
    """Invite an e-mail address with a role; the response carries the accept URL once."""
    created = service.invite(
        db,
        organization_id=principal.organization_id,
        workspace_id=workspace_id,
        email=body.email,
        role=body.role,
        invited_by_key_id=principal.key_id,
        ttl_hours=settings.api.invitation_ttl_hours,
        api_base_url=(settings.api.public_url or str(request.base_url)).rstrip("/"),
    )
    return ok(InvitationOut.of(created.invitation, created.accept_url).model_dump(mode="json"))


@router.get("/workspaces/{workspace_id}/members", response_model=ListEnvelope[MemberOut])
def list_members(
    workspace_id: str,
    principal: Admin,
    db: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the workspace's members."""
    found = service.list_members(
        db,
        organization_id=principal.organization_id,
        workspace_id=workspace_id,
        limit=limit,
        cursor=cursor,
    )
    return page([MemberOut.of(m).model_dump(mode="json") for m in found.items], found.next_cursor)


@router.patch("/workspaces/{workspace_id}/members/{member_id}", response_model=Envelope[MemberOut])
def change_role(
    workspace_id: str, member_id: str, body: MemberPatch, principal: Admin, db: DB
) -> Any:
    """Change a member's role (409 for the last admin)."""
    member = service.change_role(
        db,
        organization_id=principal.organization_id,
        workspace_id=workspace_id,
        member_id=member_id,
        role=body.role,
    )
    return ok(MemberOut.of(member).model_dump(mode="json"))


@router.delete("/workspaces/{workspace_id}/members/{member_id}", response_model=Envelope[MemberOut])
def remove_member(workspace_id: str, member_id: str, principal: Admin, db: DB) -> Any:
    """Remove a member and revoke their API keys (409 for the last admin)."""
    member = service.remove_member(
        db,
        organization_id=principal.organization_id,
        workspace_id=workspace_id,
        member_id=member_id,
    )
    return ok(MemberOut.of(member).model_dump(mode="json"))


@accept_router.post(
    "/invitations/{token}/accept", status_code=201, response_model=Envelope[AcceptOut]
)
def accept_invitation(token: str, db: DB, body: AcceptIn = _NO_ACCEPT_BODY) -> Any:
    """Accept an invitation: become a member and get a first API key, shown once."""
    accepted = service.accept_invitation(db, token=token, name=body.name)
    out = AcceptOut(
        workspace_id=accepted.member.organization_id,
        member=MemberOut.of(accepted.member),
        key=ApiKeyOut.of(accepted.key, accepted.secret),
    )
    return ok(out.model_dump(mode="json"))
