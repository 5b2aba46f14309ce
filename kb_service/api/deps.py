"""Dependencies as `Annotated` aliases: the database, the runtime parts, the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from kb_service.api.ratelimit import RateLimiter
from kb_service.db.database import Database
from kb_service.errors import PermissionDenied
from kb_service.runtime import Runtime
from kb_service.services.keys import Principal, authenticate

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_db(request: Request) -> Database:
    return get_runtime(request).db


def get_principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    organization_id: Annotated[str | None, Header(alias="X-Organization-Id")] = None,
) -> Principal:
    """The authenticated caller; 401 without a valid key, 403 on an organization mismatch.

    The key is looked up on every request (revocation is immediate), and each request
    spends one token of the key's rate-limit bucket (429 when it is empty).
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        secret = api_key or (bearer.credentials if bearer else None)
        with get_db(request).session() as session:
            cached = authenticate(session, secret=secret)
        request.state.principal = cached
    if not getattr(request.state, "rate_limited", False):
        request.state.rate_limited = True
        spend_rate_limit(request.app.state, cached)
    check_organization(cached, organization_id)
    return cached


def spend_rate_limit(app_state: Any, principal: Principal) -> None:
    """Take one token of the key's bucket (`RateLimited` when empty)."""
    limiter: RateLimiter | None = getattr(app_state, "rate_limiter", None)
    if limiter is not None:
        limiter.take(principal.key_id)


def check_organization(principal: Principal, organization_header: str | None) -> None:
    if organization_header is not None and organization_header != principal.organization_id:
        raise PermissionDenied("X-Organization-Id does not match the organization of your API key.")


def _require(role: str):  # type: ignore[no-untyped-def]
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.can(role):
            raise PermissionDenied(
                f"This needs the {role} role; your key has the {principal.role} role."
            )
        return principal

    return dependency


DB = Annotated[Database, Depends(get_db)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Reader = Annotated[Principal, Depends(_require("reader"))]
Writer = Annotated[Principal, Depends(_require("writer"))]
Admin = Annotated[Principal, Depends(_require("admin"))]
