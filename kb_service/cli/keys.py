"""`kb-service keys create`: an organization's API key, its secret printed once."""

from __future__ import annotations

import argparse
import json

from kb_service.settings import load_settings


def cmd_keys_create(args: argparse.Namespace) -> int:
    from kb_service.db.database import Database
    from kb_service.services.keys import create_api_key, get_or_create_organization

    settings = load_settings()
    db = Database(settings.resolved_database_url)
    db.migrate()
    org = get_or_create_organization(db, name=args.org)
    key, secret = create_api_key(db, organization_id=org.id, role=args.role, name=args.name)
    org_id, key_id = org.id, key.id
    if args.json:
        print(json.dumps({"organization_id": org_id, "key_id": key_id, "key": secret}))
    else:
        print(f"Organization: {args.org} ({org_id})")
        print(f"API key {key_id} ({args.role}); shown once, store it now:")
        print(secret)
    return 0
