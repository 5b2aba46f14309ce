"""`kb-service query --kb NAME "..."`: an answer with its sources, or the ranked chunks.

The question takes the same service path as `POST /knowledge-bases/{id}/query`, against
the storage the `KB_*` settings name; `--json` prints the answer, its citations and the
chunks as one JSON object.
"""

from __future__ import annotations

import json

from kb_service.runtime import Runtime
from kb_service.services import knowledge_bases
from kb_service.services import search as search_service
from kb_service.services.answers import verdict_fields
from kb_service.services.keys import get_or_create_organization
from kb_service.settings import load_settings


def query_kb(
    text: str, *, kb_name: str, org_name: str, top_k: int, mode: str, as_json: bool
) -> int:
    """Answer (or retrieve) from a knowledge base of the local data directory."""
    runtime = Runtime.build(load_settings())
    try:
        org = get_or_create_organization(runtime.db, name=org_name)
        kb = knowledge_bases.find_kb_by_name(runtime.db, organization_id=org.id, name=kb_name)
        if kb is None:
            print(f"kb-service: no knowledge base named {kb_name!r} in {org_name!r}")
            return 1
        result = search_service.query_knowledge_base(
            runtime.db,
            engine=runtime.query_engine,
            organization_id=org.id,
            kb_id=kb.id,
            request=search_service.QueryRequest(text, top_k=top_k, answer=mode == "answer"),
        )
    finally:
        runtime.close()
    answer = result.answer
    if as_json:
        print(
            json.dumps(
                {
                    "answer": answer.text if answer else None,
                    "answerer": answer.answerer if answer else None,
                    "citations": [c.to_dict() for c in answer.citations] if answer else [],
                    "chunks": [search_service.chunk_dict(p) for p in result.chunks],
                    **verdict_fields(result.answerability),
                },
                indent=2,
            )
        )
        return 0
    verdict = result.answerability
    if answer is not None:
        print(answer.text if verdict.found else f"{answer.text} {verdict.reason}")
        print(f"(found: {str(verdict.found).lower()}, confidence {verdict.confidence:.2f})\n")
        for c in answer.citations:
            page = f", p. {c.passage.page_number}" if c.passage.page_number else ""
            print(
                f"[{c.index}] {c.passage.title} ({c.passage.source}{page}) {c.char_start}-{c.char_end}"
            )
    else:
        for rank, p in enumerate(result.chunks, start=1):
            snippet = " ".join(p.text.split())[:160]
            print(f"{rank:>3}. {p.score:.4f}  {p.title}: {snippet}")
    return 0
