"""`kb-service reindex`: rebuild vectors from stored text, without re-uploading.

`--kb NAME` rebuilds a knowledge base in this process: run it with `serve` and `worker`
stopped when the index is embedded (Qdrant Edge is single-process); against a Qdrant
server it may run beside them. `--meetings` queues the organization's indexed meetings
for the meeting indexer of a running (or the next) `serve`/`worker`. Prints counts as
JSON. See `kb_service.services.reindex`.
"""

from __future__ import annotations

import json
import time

from kb_service.db.database import Database
from kb_service.runtime import Runtime
from kb_service.services import knowledge_bases
from kb_service.services.keys import get_or_create_organization
from kb_service.services.reindex import reindex_knowledge_base, requeue_meetings
from kb_service.settings import load_settings


def reindex_kb(*, kb_name: str, org_name: str) -> int:
    runtime = Runtime.build(load_settings())
    try:
        org = get_or_create_organization(runtime.db, name=org_name)
        kb = knowledge_bases.find_kb_by_name(runtime.db, organization_id=org.id, name=kb_name)
        if kb is None:
            print(f"kb-service: no knowledge base named {kb_name!r} in {org_name!r}")
            return 1
        started = time.perf_counter()
        result = reindex_knowledge_base(
            runtime.db,
            pipeline=runtime.pipeline,
            chunk_embedder=runtime.chunk_embedder,
            index=runtime.index,
            organization_id=org.id,
            kb_id=kb.id,
        )
    finally:
        runtime.close()
    summary = {
        "knowledge_base_id": kb.id,
        "documents": result.documents,
        "chunks": result.chunks,
        "superseded": result.superseded,
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary))
    return 0


def reindex_meetings(*, org_name: str) -> int:
    """Queue every indexed meeting of the organization for re-indexing by `serve`/`worker`.

    It writes SQL only (no index, no model), so it may run while `serve` runs.
    """
    db = Database(load_settings().resolved_database_url)
    db.migrate()
    org = get_or_create_organization(db, name=org_name)
    count = requeue_meetings(db, organization_id=org.id)
    print(json.dumps({"meetings_queued": count}))
    return 0
