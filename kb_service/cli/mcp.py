"""`kb-service mcp`: the MCP tools over stdio for a desktop agent, as the key `KB_API_KEY`.

stdout is the MCP wire, so everything this command says goes to stderr, and anything
printed while the runtime loads is sent there too. The key is checked once at start
(a missing, unknown or revoked key exits with status 2 and a sentence) and again on
every tool call.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import redirect_stdout

from kb_service.errors import Unauthenticated
from kb_service.settings import load_settings

log = logging.getLogger(__name__)
# A credential of the client, not a setting of the service: read here, not in `Settings`.
API_KEY_VARIABLE = "KB_API_KEY"


def serve_mcp() -> int:
    from kb_service.db.database import Database
    from kb_service.mcp.stdio import serve_stdio
    from kb_service.runtime import Runtime
    from kb_service.services.keys import authenticate

    secret = os.environ.get(API_KEY_VARIABLE, "").strip()
    if not secret:
        print(
            "kb-service mcp: set KB_API_KEY to an API key (sk_...); "
            "create one with: kb-service keys create --org my-org --role reader",
            file=sys.stderr,
        )
        return 2
    settings = load_settings()
    db = Database(settings.resolved_database_url)
    try:  # before the model loads, so a wrong key fails at once
        db.migrate()
        principal = authenticate(db, secret=secret)
    except Unauthenticated as exc:
        print(f"kb-service mcp: KB_API_KEY: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    with redirect_stdout(sys.stderr):
        runtime = Runtime.build(settings, migrate=False)
    try:
        log.info(
            "serving MCP over stdio for organization %s (key %s, role %s)",
            principal.organization_id,
            principal.key_id,
            principal.role,
        )
        serve_stdio(runtime, secret=secret)
    finally:
        runtime.close()
    return 0
