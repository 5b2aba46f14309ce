"""Success examples for the operations clients call most, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any


def _ok(data: Any) -> dict[str, Any]:
    return {"success": True, "data": data, "message": None, "meta": None}


_KB = "kb_7h2m4q9x1c5v8b3n6z0w4e7r"
# a ranked chunk; a citation is the same plus its `index`, the `[n]` of the answer
_DOC_CHUNK = {
    "chunk_id": "chk_5t1y7u3i9o2p4a6s8d0f2g4h",
    "document_id": "doc_3k8j5h1g9f2d7s4a6p0o8i3u",
    "knowledge_base_id": _KB,
    "title": "Returns policy",
    "source": "returns-policy.pdf",
    "page_number": 2,
    "char_start": 1204,
    "char_end": 1269,
    "text": "Refunds are issued within 14 days of receiving the returned item.",
    "score": 0.83121,
    "source_type": "pdf",
    "section": ["Refunds"],
}
_MEETING_CHUNK: dict[str, Any] = {
    "chunk_id": "chk_9q2w4e6r8t0y1u3i5o7p9a1s",
    "document_id": None,
    "knowledge_base_id": None,
    "title": "Support weekly",
    "source": "zoom meeting",
    "page_number": None,
    "char_start": 310,
    "char_end": 361,
    "text": "We extend refunds to 30 days for premium customers.",
    "score": 0.71044,
    "source_type": "meeting",
    "section": [],
    "meeting_id": "mtg_2d4f6h8j0k1l3z5x7c9v1b3n",
    "speaker": "Dana",
    "timestamp": 754.2,
}
_FOUND: dict[str, Any] = {
    "found": True,
    "confidence": 0.9979,
    "reason": None,
    "evidence": {
        "similarity": 0.6132,
        "coverage": 1.0,
        "evidence": 1.0132,
        "threshold": 0.5,
        "missing_terms": [],
    },
}
_TASK_ID = "tsk_8c2v4b6n8m0q1w3e5r7t9y1u"
_RUN: dict[str, Any] = {
    "id": "run_3s5d7f9g1h3j5k7l9z1x3c5v",
    "task_id": _TASK_ID,
    "trigger": "schedule",
    "scheduled_for": "2025-03-10T09:00:00Z",
    "window_start": "2025-03-03T09:00:00Z",
    "status": "completed",
    "prompt": "What did the support team decide last week about refunds?",
    "answer": f"{_MEETING_CHUNK['text']} [1]",
    "answerer": "extractive",
    "citations": [{"index": 1, **_MEETING_CHUNK}],
    **{k: _FOUND[k] for k in ("found", "confidence")},
    "notice": None,
    "error": None,
    "timings": {
        "queued_ms": 41.7,
        "run_ms": 96.3,
        "stages_ms": {"scope": 2.1, "embed": 11.8, "index": 6.4, "rerank": 0.0, "liveness": 1.2,
                      "answer": 38.9},
    },
    "attempts": 1,
    "created_at": "2025-03-10T09:00:00.412000Z",
    "started_at": "2025-03-10T09:00:00.454000Z",
    "finished_at": "2025-03-10T09:00:00.550000Z",
}  # fmt: skip
_QUEUED_RUN: dict[str, Any] = {
    **_RUN,
    "trigger": "manual",
    "scheduled_for": None,
    "window_start": "2025-03-05T14:20:31.118000Z",
    "status": "queued",
    "answer": None,
    "answerer": None,
    "citations": [],
    "found": None,
    "confidence": None,
    "timings": {"queued_ms": None, "run_ms": None, "stages_ms": {}},
    "attempts": 0,
    "created_at": "2025-03-12T14:20:31.118000Z",
    "started_at": None,
    "finished_at": None,
}
SUCCESS_EXAMPLES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/knowledge-bases"): _ok(
        {
            "id": _KB,
            "name": "Support handbook",
            "description": "Policies and how-tos for the support team.",
            "project_id": "prj_6y8u0i2o4p6a8s0d2f4g6h8j",
            "chunking": {"max_tokens": 200, "overlap_tokens": 30},
            "metadata": {"team": "support"},
            "document_count": 0,
            "chunk_count": 0,
            "created_at": "2025-03-04T09:15:27.481000Z",
            "updated_at": "2025-03-04T09:15:27.481000Z",
        }
    ),
    ("post", "/api/v1/knowledge-bases/{kb_id}/query"): _ok(
        {
            "answer": f"{_DOC_CHUNK['text']} [1]",
            "answerer": "extractive",
            "citations": [{"index": 1, **_DOC_CHUNK}],
            "chunks": [_DOC_CHUNK],
            **_FOUND,
        }
    ),
    ("post", "/api/v1/search"): _ok(
        {
            "answer": f"{_DOC_CHUNK['text']} [1] {_MEETING_CHUNK['text']} [2]",
            "answerer": "extractive",
            "citations": [{"index": 1, **_DOC_CHUNK}, {"index": 2, **_MEETING_CHUNK}],
            "chunks": [_DOC_CHUNK, _MEETING_CHUNK],
            **_FOUND,
        }
    ),
    ("post", "/api/v1/tasks"): _ok(
        {
            "id": _TASK_ID,
            "name": "Support weekly digest",
            "prompt": "What did the support team decide last week about refunds?",
            "scope": {
                "knowledge_base_ids": None,
                "project_ids": ["prj_6y8u0i2o4p6a8s0d2f4g6h8j"],
                "include_meetings": True,
                "since": "7d",
            },
            "schedule": {
                "cron": "0 9 * * 1",
                "timezone": "Europe/Lisbon",
                "interval_minutes": None,
            },
            "answerer": None,
            "top_k": 8,
            "enabled": True,
            "next_run_at": "2025-03-10T09:00:00Z",
            "created_at": "2025-03-05T14:02:11.907000Z",
            "updated_at": "2025-03-05T14:02:11.907000Z",
        }
    ),
    ("post", "/api/v1/tasks/{task_id}/run"): _ok(_QUEUED_RUN),
    ("get", "/api/v1/task-runs/{run_id}"): _ok(_RUN),
}
