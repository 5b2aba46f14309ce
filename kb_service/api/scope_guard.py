"""The one door of key scopes on the REST API, run by `deps.get_principal` on every route.

For a scoped key (`services.scopes`), every id in the URL must name an object inside
its scope, found by the collection before it (`/knowledge-bases/{kb_id}`,
`/sources/{source_id}`, ...); a collection scopes cannot hold (API keys, webhooks,
workspaces, meeting sources, a new one) is closed. A route without ids in its URL is
closed too unless it is listed in `SELF_SCOPED`: those filter their results to
`principal.scope` or check the ids their body names. So a new route is closed to
scoped keys (404) until it is one of these, never open by omission.
"""

from __future__ import annotations

import re

from fastapi import Request

from kb_service.db.database import Database
from kb_service.errors import NotFound
from kb_service.services import scopes
from kb_service.services.keys import Principal

API_PREFIX = "/api/v1"
# (method, path) of routes without ids that apply the scope themselves.
SELF_SCOPED = {
    ("GET", "/knowledge-bases"),  # filtered
    ("GET", "/projects"),  # filtered
    ("GET", "/meetings"),  # filtered
    ("POST", "/meetings"),  # its project_id must be inside
    ("POST", "/meetings/import"),  # its project_id must be inside
    ("POST", "/search"),  # narrowed; named ids must be inside
    ("GET", "/tasks"),  # filtered
    ("POST", "/tasks"),  # its knowledge bases and projects must be inside
    ("GET", "/workspaces/me"),  # the key itself
}
_ID = re.compile(r"/([^/{}]+)/\{([^/{}]+)\}")


def check_route(request: Request, db: Database, principal: Principal) -> None:
    """`NotFound` unless a scoped key may call this route on the ids in its URL."""
    if principal.scope is None:
        return
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or request.url.path
    named = _ID.findall(path)
    if not named:
        if (request.method, path.removeprefix(API_PREFIX)) not in SELF_SCOPED:
            raise NotFound("This route is outside the scope of your API key.")
        return
    with db.session() as session:
        for collection, parameter in named:
            object_id = str(request.path_params.get(parameter, ""))
            scopes.check_named(session, principal.scope, collection, object_id)
