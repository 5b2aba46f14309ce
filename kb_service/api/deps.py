"""Dependencies as `Annotated` aliases: the runtime's parts, the caller, paging.

Routes take only the parts they use (`DB`, `Index`, `Pipeline`, `Engine`,
`AppSettings`) and pass them to one service function. There is no per-request session:
each service function opens its own transaction on `DB` and commits it before the
route shapes the response, so a client never sees an answer the database has not yet
committed, and a streamed answer holds no connection while it is being sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ingest.pipeline import IngestPipeline
from kb_service.api.ratelimit import RateLimiter
from kb_service.api.scope_guard import check_route
from kb_service.db.database import Database
from kb_service.db.pagination import DEFAULT_LIMIT as DEFAULT_LIMIT
from kb_service.db.pagination import MAX_LIMIT
from kb_service.errors import PermissionDenied
from kb_service.runtime import Runtime
from kb_service.services.keys import Principal, authenticate
from kb_service.services.query_engine import QueryEngine
from kb_service.settings import Settings
from retrieval.index import VectorIndex

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_db(request: Request) -> Database:
    return get_runtime(request).db


def get_index(request: Request) -> VectorIndex:
    return get_runtime(request).index


def get_pipeline(request: Request) -> IngestPipeline:
    return get_runtime(request).pipeline


def get_query_engine(request: Request) -> QueryEngine:
    return get_runtime(request).query_engine


def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


def get_principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    organization_id: Annotated[str | None, Header(alias="X-Organization-Id")] = None,
) -> Principal:
    """The authenticated caller; 401 without a valid key, 403 on an organization mismatch,
    404 when the route or the ids in its URL are outside a scoped key's scope.

    The key is looked up on every request (revocation is immediate), and each request
    spends one token of the key's rate-limit bucket (429 when it is empty).
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        secret = api_key or (bearer.credentials if bearer else None)
        cached = authenticate(get_db(request), secret=secret)
        request.state.principal = cached
    if not getattr(request.state, "rate_limited", False):
        request.state.rate_limited = True
        spend_rate_limit(request.app.state, cached)
    check_organization(cached, organization_id)
    if not getattr(request.state, "scope_checked", False):
        check_route(request, get_db(request), cached)
        request.state.scope_checked = True
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
Index = Annotated[VectorIndex, Depends(get_index)]
Pipeline = Annotated[IngestPipeline, Depends(get_pipeline)]
Engine = Annotated[QueryEngine, Depends(get_query_engine)]
AppSettings = Annotated[Settings, Depends(get_settings)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Reader = Annotated[Principal, Depends(_require("reader"))]
Writer = Annotated[Principal, Depends(_require("writer"))]
Admin = Annotated[Principal, Depends(_require("admin"))]
# Page size and position of a list (`?limit=&cursor=`); a route defaults limit to DEFAULT_LIMIT.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query()]
