"""Workspace members and invitations.

An admin invites an e-mail address with a role; the invitation carries a single-use
token (only its SHA-256 is stored) that expires after `KB_INVITATION_TTL_HOURS`. No
e-mail is sent: the response carries the accept URL and `invitation.created` is
emitted through the outbox so an operator's webhook can send it. Accepting creates
the member and its first API key. Removing a member revokes its keys in the same
transaction. The organization always keeps an admin: demoting or removing the last
one is a conflict, decided inside one guarded UPDATE so two admins demoting each other
at once cannot both succeed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kb_service.db.base import iso_z, utcnow
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.identity import ApiKey, Invitation, Member
from kb_service.db.pagination import Page, paginate
from kb_service.errors import Conflict, InvalidInput, NotFound
from kb_service.services.keys import check_role, hash_key, new_key

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    accept_url: str


@dataclass(frozen=True)
class Acceptance:
    member: Member
    key: ApiKey
    secret: str


def _check_workspace(organization_id: str, workspace_id: str) -> None:
    if workspace_id != organization_id:
        raise NotFound.of("workspace", workspace_id)


def _email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidInput(
            f"{value!r} is not an e-mail address.",
            errors=[{"field": "email", "message": "not an e-mail address", "type": "value_error"}],
        )
    return email


def invitation_data(invitation: Invitation) -> dict[str, Any]:
    """The invitation as API responses and the `invitation.created` event show it."""
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "created_at": iso_z(invitation.created_at),
        "expires_at": iso_z(invitation.expires_at),
    }


def invite(
    db: Database,
    *,
    organization_id: str,
    workspace_id: str,
    email: str,
    role: str,
    invited_by_key_id: str,
    ttl_hours: float,
    api_base_url: str,
) -> NewInvitation:
    """An invitation for `email` with `role`, and the URL that accepts it."""
    _check_workspace(organization_id, workspace_id)
    address, role = _email(email), check_role(role)
    token = secrets.token_urlsafe(32)
    accept_url = f"{api_base_url}/api/v1/invitations/{token}/accept"
    now = utcnow()
    with db.session() as session:
        if _active_member_with(session, organization_id, address) is not None:
            raise Conflict(f"{address} is already a member of this workspace.")
        invitation = Invitation(
            organization_id=organization_id,
            email=address,
            role=role,
            token_hash=hash_key(token),
            invited_by_key_id=invited_by_key_id,
            created_at=now,
            expires_at=now + timedelta(hours=ttl_hours),
        )
        session.add(invitation)
        session.flush()
        record_event(
            session,
            organization_id=organization_id,
            type="invitation.created",
            data={"invitation": invitation_data(invitation), "accept_url": accept_url},
        )
        return NewInvitation(invitation, accept_url)


def accept_invitation(db: Database, *, token: str, name: str | None) -> Acceptance:
    """Create the invited member and its first API key; the token works once."""
    now = utcnow()
    with db.session() as session:
        invitation = session.scalars(
            select(Invitation).where(Invitation.token_hash == hash_key(token))
        ).first()
        if invitation is None:
            raise NotFound("No invitation matches this token.")
        if invitation.accepted_at is not None:
            raise Conflict("This invitation was already accepted.")
        if invitation.expires_at <= now:
            raise Conflict("This invitation has expired; ask an admin for a new one.")
        claimed = session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
            .values(accepted_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("This invitation was already accepted.")
        if _active_member_with(session, invitation.organization_id, invitation.email):
            raise Conflict(f"{invitation.email} is already a member of this workspace.")
        member = Member(
            organization_id=invitation.organization_id,
            email=invitation.email,
            name=name,
            role=invitation.role,
            created_at=now,
        )
        session.add(member)
        session.flush()
        invitation.member_id = member.id
        key, secret = new_key(session, member=member, role=member.role, name="first key")
        return Acceptance(member, key, secret)


def list_members(
    db: Database, *, organization_id: str, workspace_id: str, limit: int, cursor: str | None
) -> Page[Member]:
    """The workspace's members, oldest first (removed members are not listed)."""
    _check_workspace(organization_id, workspace_id)
    with db.session() as session:
        return paginate(
            session,
            select(Member).where(
                Member.organization_id == organization_id, Member.removed_at.is_(None)
            ),
            created_at=Member.created_at,
            row_id=Member.id,
            limit=limit,
            cursor=cursor,
        )


def change_role(
    db: Database, *, organization_id: str, workspace_id: str, member_id: str, role: str
) -> Member:
    """Give the member another role (the last admin keeps theirs)."""
    _check_workspace(organization_id, workspace_id)
    check_role(role)
    with db.session() as session:
        member = _member(session, organization_id, member_id)
        if member.role == "admin" and role != "admin":
            _guarded_update(session, member, role=role)
        else:
            member.role = role
        session.flush()
        session.refresh(member)
        return member


def remove_member(
    db: Database, *, organization_id: str, workspace_id: str, member_id: str
) -> Member:
    """Remove the member and revoke their keys in the same transaction."""
    _check_workspace(organization_id, workspace_id)
    now = utcnow()
    with db.session() as session:
        member = _member(session, organization_id, member_id)
        if member.role == "admin":
            _guarded_update(session, member, removed_at=now)
        else:
            member.removed_at = now
        session.execute(
            update(ApiKey)
            .where(ApiKey.member_id == member.id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.flush()
        session.refresh(member)
        return member


def _guarded_update(session: Session, member: Member, **values: Any) -> None:
    """Apply `values` to an admin member only if another active admin remains."""
    others = (
        select(func.count())
        .select_from(Member)
        .where(
            Member.organization_id == member.organization_id,
            Member.role == "admin",
            Member.removed_at.is_(None),
            Member.id != member.id,
        )
        .scalar_subquery()
    )
    # PostgreSQL: lock the admins, so concurrent demotions see each other's result;
    # SQLite: the guarded UPDATE below is one statement under the database's write lock.
    session.execute(
        select(Member.id)
        .where(
            Member.organization_id == member.organization_id,
            Member.role == "admin",
            Member.removed_at.is_(None),
        )
        .with_for_update()
    )
    done = session.execute(
        update(Member).where(Member.id == member.id, others > 0).values(**values)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This member is the workspace's last admin; make another admin first.")


def _member(session: Session, organization_id: str, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.organization_id != organization_id or member.removed_at:
        raise NotFound.of("member", member_id)
    return member


def _active_member_with(session: Session, organization_id: str, email: str) -> Member | None:
    return session.scalars(
        select(Member).where(
            Member.organization_id == organization_id,
            Member.email == email,
            Member.removed_at.is_(None),
        )
    ).first()
