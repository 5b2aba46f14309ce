"""Organizations and API keys: creation, hashing, authentication, rotation, revocation.

A key belongs to a member (`kb_service/services/members.py`); keys made without one
(the CLI's bootstrap key, tests) belong to the organization's owner member, created
with the first such key. A key acts with the lower of its own role and its member's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.identity import ApiKey, Member, Organization
from kb_service.db.pagination import Page, paginate
from kb_service.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from kb_service.services.scopes import KeyScope, Scope, checked_scope

ROLES = ("reader", "writer", "admin")
_RANK = {role: n for n, role in enumerate(ROLES)}
# `last_used_at` is written at most this often per key, off the request's transaction.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, its member, its organization, its effective role and scope.

    `scope` None is the whole organization. A scoped key (`services.scopes`) sees a
    knowledge base if its id or its project's id is in the scope, a project if its id
    is, a meeting if its project's id is, and what belongs to those (documents, jobs,
    sources, versions, passages, search results and answers), and the tasks naming
    only those; everything else, organization-level administration included, is 404
    for it, never 403.
    """

    organization_id: str
    key_id: str
    role: str
    member_id: str | None = None
    scope: Scope = None

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


def hash_key(secret: str) -> str:
    # Keys carry 192 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str, str]:
    """A fresh key secret (`sk_` + 192 random bits), its hash and its displayed prefix."""
    secret = "sk_" + secrets.token_urlsafe(24)
    return secret, hash_key(secret), secret[:7]


def lower_role(a: str, b: str) -> str:
    return a if _RANK[a] <= _RANK[b] else b


def check_role(role: str) -> str:
    if role not in _RANK:
        raise InvalidInput(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    return role


def get_or_create_organization(db: Database, *, name: str) -> Organization:
    """The organization called `name`, created if there is none (how the CLI names them)."""
    with db.session() as session:
        org = session.scalars(select(Organization).where(Organization.name == name)).first()
        if org is None:
            org = Organization(name=name, created_at=utcnow())
            session.add(org)
            session.flush()
        return org


def get_organization(db: Database, *, organization_id: str) -> Organization:
    """The organization with this id (else `NotFound`)."""
    with db.session() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound.of("organization", organization_id)
        return org


def owner_member(session: Session, organization_id: str) -> Member:
    """The organization's owner member (an admin), created on first use."""
    owner = session.scalars(
        select(Member).where(Member.organization_id == organization_id, Member.is_owner)
    ).first()
    if owner is None:
        owner = Member(
            organization_id=organization_id,
            name="owner",
            role="admin",
            is_owner=True,
            created_at=utcnow(),
        )
        session.add(owner)
        session.flush()
    return owner


def new_key(
    session: Session,
    *,
    member: Member,
    role: str,
    name: str | None = None,
    expires_at: datetime | None = None,
    scope: KeyScope | None = None,
) -> tuple[ApiKey, str]:
    """Add a key of `member` to the session; returns it and its secret (`sk_...`)."""
    check_role(role)
    if _RANK[role] > _RANK[member.role]:
        raise InvalidInput(
            f"A key cannot have more than its member's role ({member.role}); asked for {role}."
        )
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at must be in the future.")
    secret, digest, prefix = new_secret()
    key = ApiKey(
        organization_id=member.organization_id,
        member_id=member.id,
        name=name,
        role=role,
        key_hash=digest,
        key_prefix=prefix,
        created_at=utcnow(),
        expires_at=expires_at,
        scopes=scope.to_json() if scope is not None else None,
    )
    session.add(key)
    session.flush()
    return key, secret


def create_api_key(
    db: Database,
    *,
    organization_id: str,
    role: str,
    name: str | None = None,
    member_id: str | None = None,
    expires_at: datetime | None = None,
    scopes: dict[str, list[str] | None] | None = None,
) -> tuple[ApiKey, str]:
    """A new key of the member (default: the owner) and its secret, never shown again.

    `scopes` (`{"knowledge_base_ids": [...], "project_ids": [...]}`, None: the whole
    organization) limits the key; ids that are not the organization's are `NotFound`.
    """
    with db.session() as session:
        scope = None
        if scopes is not None:
            scope = checked_scope(
                session,
                organization_id=organization_id,
                knowledge_base_ids=scopes.get("knowledge_base_ids"),
                project_ids=scopes.get("project_ids"),
            )
        if member_id is None:
            member = owner_member(session, organization_id)
        else:
            found = session.get(Member, member_id)
            if found is None or found.organization_id != organization_id or found.removed_at:
                raise NotFound.of("member", member_id)
            member = found
        return new_key(
            session, member=member, role=role, name=name, expires_at=expires_at, scope=scope
        )


def list_api_keys(
    db: Database, *, organization_id: str, limit: int, cursor: str | None
) -> Page[ApiKey]:
    """The organization's keys, oldest first (their hashes only; secrets are never kept)."""
    with db.session() as session:
        return paginate(
            session,
            select(ApiKey).where(ApiKey.organization_id == organization_id),
            created_at=ApiKey.created_at,
            row_id=ApiKey.id,
            limit=limit,
            cursor=cursor,
        )


def authenticate(db: Database, *, secret: str | None) -> Principal:
    """The caller a secret belongs to (`Unauthenticated` if unknown, revoked, expired or
    replaced by a rotation whose grace period is over)."""
    if not secret:
        raise Unauthenticated("Send an API key in X-API-Key or as Authorization: Bearer sk_...")
    digest, now = hash_key(secret), utcnow()
    with db.session() as session:
        key = session.scalars(
            select(ApiKey).where(or_(ApiKey.key_hash == digest, ApiKey.previous_key_hash == digest))
        ).first()
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("The API key is not valid (unknown or revoked).")
        if key.key_hash != digest and not (
            key.previous_valid_until and now < key.previous_valid_until
        ):
            raise Unauthenticated("The API key was rotated; use its new secret.")
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("The API key has expired.")
        role = key.role
        if key.member_id is not None:
            member = session.get(Member, key.member_id)
            if member is None or member.removed_at is not None:
                raise Unauthenticated("The API key's member was removed from the workspace.")
            role = lower_role(role, member.role)
        principal = Principal(
            key.organization_id, key.id, role, key.member_id, KeyScope.from_json(key.scopes)
        )
        stale = key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION
    if stale:
        _touch(db, key_id=principal.key_id, now=now)
    return principal


def _touch(db: Database, *, key_id: str, now: datetime) -> None:
    """Record that the key was used; skipped when the database is busy (it is a hint)."""
    try:
        with db.session() as session:
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    except OperationalError:
        pass


def rotate_api_key(
    db: Database, *, organization_id: str, key_id: str, grace_seconds: int, max_grace: int
) -> tuple[ApiKey, str]:
    """A new secret for the key; the old one keeps working for `grace_seconds`."""
    if not 0 <= grace_seconds <= max_grace:
        raise InvalidInput(f"grace_seconds must be between 0 and {max_grace}.")
    secret, digest, prefix = new_secret()
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.organization_id != organization_id:
            raise NotFound.of("API key", key_id)
        if key.revoked_at is not None:
            raise Conflict("The API key is revoked; create a new one instead.")
        keep_old = grace_seconds > 0
        key.previous_key_hash = key.key_hash if keep_old else None
        key.previous_valid_until = utcnow() + timedelta(seconds=grace_seconds) if keep_old else None
        key.key_hash = digest
        key.key_prefix = prefix
        session.flush()
        return key, secret


def revoke_api_key(db: Database, *, organization_id: str, key_id: str) -> ApiKey:
    """Revoke the key; it stops working on the next request."""
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.organization_id != organization_id:
            raise NotFound.of("API key", key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        return key
