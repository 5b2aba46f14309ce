"""Organizations and API keys: creation, hashing, authentication, revocation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.identity import ApiKey, Organization
from kb_service.db.pagination import Page, paginate
from kb_service.errors import InvalidInput, NotFound, Unauthenticated

ROLES = ("reader", "writer", "admin")
_RANK = {role: n for n, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, its organization and its role."""

    organization_id: str
    key_id: str
    role: str

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


def hash_key(secret: str) -> str:
    # Keys carry 192 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


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


def create_api_key(
    db: Database, *, organization_id: str, role: str, name: str | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret (`sk_...`), which is never retrievable again."""
    if role not in _RANK:
        raise InvalidInput(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    secret = "sk_" + secrets.token_urlsafe(24)
    key = ApiKey(
        organization_id=organization_id,
        name=name,
        role=role,
        key_hash=hash_key(secret),
        key_prefix=secret[:7],
        created_at=utcnow(),
    )
    with db.session() as session:
        session.add(key)
        session.flush()
    return key, secret


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
    """The caller a secret belongs to (`Unauthenticated` if none, unknown or revoked)."""
    if not secret:
        raise Unauthenticated("Send an API key in X-API-Key or as Authorization: Bearer sk_...")
    with db.session() as session:
        key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("The API key is not valid (unknown or revoked).")
        return Principal(key.organization_id, key.id, key.role)


def revoke_api_key(db: Database, *, organization_id: str, key_id: str) -> ApiKey:
    """Revoke the key; it stops working on the next request."""
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.organization_id != organization_id:
            raise NotFound.of("API key", key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        return key
