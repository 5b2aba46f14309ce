"""OpenAPI links: how an id in one response feeds the next request.

Each entry reads "a success of `source` gives `target` its path parameters": the
object a create returns can be read, changed, listed under and deleted; an item of a
list can be read and deleted. Clients (and schemathesis' stateful tests) follow them
as create → read → list → delete chains. Expressions are OpenAPI runtime
expressions; `$request.path.kb_id` carries the parent's id along.
"""

from __future__ import annotations

from typing import Any

_KB = "/api/v1/knowledge-bases/{kb_id}"
_DOC = _KB + "/documents/{document_id}"
_SOURCE = "/api/v1/sources/{source_id}"
_CREATED = "$response.body#/data/id"
_FIRST = "$response.body#/data/0/id"
_IN_KB = "$request.path.kb_id"
_WS = "/api/v1/workspaces/{workspace_id}"
_TASK = "/api/v1/tasks/{task_id}"
_RUN = "/api/v1/task-runs/{run_id}"

_MEETING_LINKS = [
    ("GetMeeting", "get", "/api/v1/meetings/{meeting_id}", {"meeting_id": _CREATED}),
    ("GetTranscript", "get", "/api/v1/meetings/{meeting_id}/transcript", {"meeting_id": _CREATED}),
]

# (method, source path): [(link name, method, target path, {parameter: expression})]
LINKS: dict[tuple[str, str], list[tuple[str, str, str, dict[str, str]]]] = {
    ("post", "/api/v1/knowledge-bases"): [
        ("GetKnowledgeBase", "get", _KB, {"kb_id": _CREATED}),
        ("ListKnowledgeBases", "get", "/api/v1/knowledge-bases", {}),
        ("UpdateKnowledgeBase", "patch", _KB, {"kb_id": _CREATED}),
        ("IngestIntoKnowledgeBase", "post", _KB + "/ingest", {"kb_id": _CREATED}),
        ("QueryKnowledgeBase", "post", _KB + "/query", {"kb_id": _CREATED}),
        ("ListDocuments", "get", _KB + "/documents", {"kb_id": _CREATED}),
        ("DeleteKnowledgeBase", "delete", _KB, {"kb_id": _CREATED}),
    ],
    ("get", "/api/v1/knowledge-bases"): [
        ("GetListedKnowledgeBase", "get", _KB, {"kb_id": _FIRST}),
        ("DeleteListedKnowledgeBase", "delete", _KB, {"kb_id": _FIRST}),
    ],
    ("get", _KB): [("DeleteReadKnowledgeBase", "delete", _KB, {"kb_id": _CREATED})],
    ("post", _KB + "/ingest"): [
        ("GetIngestJob", "get", "/api/v1/ingest-jobs/{job_id}", {"job_id": _CREATED}),
    ],
    ("get", "/api/v1/ingest-jobs/{job_id}"): [
        (
            "GetIngestedDocument",
            "get",
            _DOC,
            {
                "kb_id": "$response.body#/data/knowledge_base_id",
                "document_id": "$response.body#/data/documents/0/document_id",
            },
        ),
    ],
    ("get", _KB + "/documents"): [
        ("GetDocument", "get", _DOC, {"kb_id": _IN_KB, "document_id": _FIRST}),
        ("ListChunks", "get", _DOC + "/chunks", {"kb_id": _IN_KB, "document_id": _FIRST}),
        ("DeleteDocument", "delete", _DOC, {"kb_id": _IN_KB, "document_id": _FIRST}),
    ],
    ("post", "/api/v1/projects"): [
        ("GetProject", "get", "/api/v1/projects/{project_id}", {"project_id": _CREATED}),
        ("ListProjects", "get", "/api/v1/projects", {}),
        (
            "ProjectContent",
            "get",
            "/api/v1/projects/{project_id}/content",
            {"project_id": _CREATED},
        ),
        (
            "ProjectMeetings",
            "get",
            "/api/v1/projects/{project_id}/meetings",
            {"project_id": _CREATED},
        ),
    ],
    ("get", "/api/v1/projects"): [
        ("GetListedProject", "get", "/api/v1/projects/{project_id}", {"project_id": _FIRST}),
    ],
    ("post", "/api/v1/meetings"): _MEETING_LINKS,
    ("post", "/api/v1/meetings/import"): _MEETING_LINKS,
    ("post", "/api/v1/meeting-sources"): [
        ("ListMeetingSources", "get", "/api/v1/meeting-sources", {}),
        (
            "DeleteMeetingSource",
            "delete",
            "/api/v1/meeting-sources/{source_id}",
            {"source_id": _CREATED},
        ),
    ],
    ("post", "/api/v1/webhooks"): [
        ("ListWebhooks", "get", "/api/v1/webhooks", {}),
        (
            "ListDeliveries",
            "get",
            "/api/v1/webhooks/{webhook_id}/deliveries",
            {"webhook_id": _CREATED},
        ),
        (
            "RotateWebhookSecret",
            "post",
            "/api/v1/webhooks/{webhook_id}/rotate-secret",
            {"webhook_id": _CREATED},
        ),
        ("DeleteWebhook", "delete", "/api/v1/webhooks/{webhook_id}", {"webhook_id": _CREATED}),
    ],
    ("post", _KB + "/sources"): [
        ("GetSource", "get", _SOURCE, {"source_id": _CREATED}),
        ("ListSources", "get", _KB + "/sources", {"kb_id": _IN_KB}),
        ("SyncSource", "post", _SOURCE + "/sync", {"source_id": _CREATED}),
        ("ListSourceSyncs", "get", _SOURCE + "/syncs", {"source_id": _CREATED}),
        ("DeleteSource", "delete", _SOURCE, {"source_id": _CREATED}),
    ],
    ("get", _KB + "/sources"): [
        ("GetListedSource", "get", _SOURCE, {"source_id": _FIRST}),
    ],
    ("post", _SOURCE + "/sync"): [
        ("ListSyncsOfSource", "get", _SOURCE + "/syncs", {"source_id": "$request.path.source_id"}),
    ],
    ("post", "/api/v1/tasks"): [
        ("GetTask", "get", _TASK, {"task_id": _CREATED}),
        ("ListTasks", "get", "/api/v1/tasks", {}),
        ("UpdateTask", "patch", _TASK, {"task_id": _CREATED}),
        ("RunTask", "post", _TASK + "/run", {"task_id": _CREATED}),
        ("ListTaskRuns", "get", _TASK + "/runs", {"task_id": _CREATED}),
        ("DeleteTask", "delete", _TASK, {"task_id": _CREATED}),
    ],
    ("get", "/api/v1/tasks"): [("GetListedTask", "get", _TASK, {"task_id": _FIRST})],
    ("post", _TASK + "/run"): [("GetTaskRun", "get", _RUN, {"run_id": _CREATED})],
    ("get", _TASK + "/runs"): [("GetListedTaskRun", "get", _RUN, {"run_id": _FIRST})],
    ("post", "/api/v1/api-keys"): [
        ("ListApiKeys", "get", "/api/v1/api-keys", {}),
        ("RotateApiKey", "post", "/api/v1/api-keys/{key_id}/rotate", {"key_id": _CREATED}),
        ("RevokeApiKey", "delete", "/api/v1/api-keys/{key_id}", {"key_id": _CREATED}),
    ],
    ("post", _WS + "/invite"): [
        ("ListMembers", "get", _WS + "/members", {"workspace_id": "$request.path.workspace_id"}),
    ],
}


def add_links(paths: dict[str, Any]) -> None:
    """Put `LINKS` on the success response of each source operation (by the target's operationId)."""
    for (method, path), links in LINKS.items():
        responses = paths[path][method]["responses"]
        success = next(r for status, r in responses.items() if status.startswith("2"))
        success["links"] = {
            name: {"operationId": paths[target][verb]["operationId"], "parameters": parameters}
            for name, verb, target, parameters in links
        }
