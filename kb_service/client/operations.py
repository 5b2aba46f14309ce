"""Every operation of the API, one line each: method, path, request model, response model.

`Op` answers one object, `ListOp` a page (`limit`, `cursor`, `.iterate()` follows
`next_cursor`). The models are the app's own (`kb_service.api.schemas`), so the client
validates a request exactly as the server will. `form=True` is a multipart upload
(see the clients' `upload_files` and `import_transcript`), `signed=True` a meeting
callback signed with the source's secret instead of an API key. A route added to the
app needs its line here: `tests/kb_service/client/test_operations.py` compares this
table with the app's OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from kb_service.api.schemas.documents import ChunkOut, DocumentOut
from kb_service.api.schemas.identity import (
    AcceptIn,
    AcceptOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyRotateIn,
    InvitationOut,
    InviteIn,
    MemberOut,
    MemberPatch,
    WorkspaceOut,
)
from kb_service.api.schemas.ingest import IngestJobOut, TextIngestIn
from kb_service.api.schemas.knowledge_bases import (
    KnowledgeBaseIn,
    KnowledgeBaseOut,
    KnowledgeBasePatch,
)
from kb_service.api.schemas.meetings import (
    CallbackOut,
    MeetingIn,
    MeetingOut,
    MeetingSourceIn,
    MeetingSourceOut,
    TranscriptOut,
)
from kb_service.api.schemas.projects import ContentOut, ProjectIn, ProjectOut
from kb_service.api.schemas.query import QueryIn, QueryOut, SearchIn
from kb_service.api.schemas.sources import SourceIn, SourceOut, SyncIn, SyncOut
from kb_service.api.schemas.tasks import TaskIn, TaskOut, TaskPatch, TaskRunOut
from kb_service.api.schemas.webhooks import DeliveryOut, WebhookIn, WebhookOut
from kb_service.client.binding import ListOp, Op

Deleted = dict[str, Any]  # {"id": ..., "deleted": true}
V1 = "/api/v1"
KB = f"{V1}/knowledge-bases/{{kb_id}}"
DOC = f"{KB}/documents/{{document_id}}"
HOOK = f"{V1}/webhooks/{{webhook_id}}"
SRC = f"{V1}/sources/{{source_id}}"
WS = f"{V1}/workspaces/{{workspace_id}}"
TASK = f"{V1}/tasks/{{task_id}}"


class Operations:
    # knowledge bases, documents, ingestion
    create_knowledge_base = Op("POST", f"{V1}/knowledge-bases", KnowledgeBaseIn, KnowledgeBaseOut)
    list_knowledge_bases = ListOp("GET", f"{V1}/knowledge-bases", None, KnowledgeBaseOut)
    get_knowledge_base = Op("GET", KB, None, KnowledgeBaseOut)
    update_knowledge_base = Op("PATCH", KB, KnowledgeBasePatch, KnowledgeBaseOut)
    delete_knowledge_base = Op("DELETE", KB, None, Deleted)
    list_documents = ListOp("GET", f"{KB}/documents", None, DocumentOut)
    get_document = Op("GET", DOC, None, DocumentOut)
    delete_document = Op("DELETE", DOC, None, Deleted)
    list_document_chunks = ListOp("GET", f"{DOC}/chunks", None, ChunkOut)
    ingest = Op("POST", f"{KB}/ingest", TextIngestIn, IngestJobOut)
    get_ingest_job = Op("GET", f"{V1}/ingest-jobs/{{job_id}}", None, IngestJobOut)
    # querying
    query = Op("POST", f"{KB}/query", QueryIn, QueryOut)
    search = Op("POST", f"{V1}/search", SearchIn, QueryOut)
    # identity
    create_api_key = Op("POST", f"{V1}/api-keys", ApiKeyIn, ApiKeyOut)
    list_api_keys = ListOp("GET", f"{V1}/api-keys", None, ApiKeyOut)
    revoke_api_key = Op("DELETE", f"{V1}/api-keys/{{key_id}}", None, ApiKeyOut)
    rotate_api_key = Op("POST", f"{V1}/api-keys/{{key_id}}/rotate", ApiKeyRotateIn, ApiKeyOut)
    my_workspace = Op("GET", f"{V1}/workspaces/me", None, WorkspaceOut)
    # members and invitations
    invite = Op("POST", f"{WS}/invite", InviteIn, InvitationOut)
    list_members = ListOp("GET", f"{WS}/members", None, MemberOut)
    change_member_role = Op("PATCH", f"{WS}/members/{{member_id}}", MemberPatch, MemberOut)
    remove_member = Op("DELETE", f"{WS}/members/{{member_id}}", None, MemberOut)
    accept_invitation = Op("POST", f"{V1}/invitations/{{token}}/accept", AcceptIn, AcceptOut)
    # web sources
    create_source = Op("POST", f"{KB}/sources", SourceIn, SourceOut)
    list_sources = ListOp("GET", f"{KB}/sources", None, SourceOut)
    get_source = Op("GET", SRC, None, SourceOut)
    delete_source = Op("DELETE", SRC, None, Deleted)
    sync_source = Op("POST", f"{SRC}/sync", SyncIn, SyncOut)
    list_syncs = ListOp("GET", f"{SRC}/syncs", None, SyncOut)
    # tasks
    create_task = Op("POST", f"{V1}/tasks", TaskIn, TaskOut)
    list_tasks = ListOp("GET", f"{V1}/tasks", None, TaskOut)
    get_task = Op("GET", TASK, None, TaskOut)
    update_task = Op("PATCH", TASK, TaskPatch, TaskOut)
    delete_task = Op("DELETE", TASK, None, Deleted)
    run_task = Op("POST", f"{TASK}/run", None, TaskRunOut)
    list_task_runs = ListOp("GET", f"{TASK}/runs", None, TaskRunOut)
    get_task_run = Op("GET", f"{V1}/task-runs/{{run_id}}", None, TaskRunOut)
    # webhooks
    create_webhook = Op("POST", f"{V1}/webhooks", WebhookIn, WebhookOut)
    list_webhooks = ListOp("GET", f"{V1}/webhooks", None, WebhookOut)
    delete_webhook = Op("DELETE", HOOK, None, Deleted)
    rotate_webhook_secret = Op("POST", f"{HOOK}/rotate-secret", None, WebhookOut)
    list_deliveries = ListOp("GET", f"{HOOK}/deliveries", None, DeliveryOut)
    retry_delivery = Op("POST", f"{HOOK}/deliveries/{{delivery_id}}/retry", None, DeliveryOut)
    # projects
    create_project = Op("POST", f"{V1}/projects", ProjectIn, ProjectOut)
    list_projects = ListOp("GET", f"{V1}/projects", None, ProjectOut)
    get_project = Op("GET", f"{V1}/projects/{{project_id}}", None, ProjectOut)
    list_project_content = ListOp("GET", f"{V1}/projects/{{project_id}}/content", None, ContentOut)
    list_project_meetings = ListOp(
        "GET", f"{V1}/projects/{{project_id}}/meetings", None, MeetingOut
    )
    # meetings
    import_meeting = Op("POST", f"{V1}/meetings", MeetingIn, MeetingOut)
    list_meetings = ListOp("GET", f"{V1}/meetings", None, MeetingOut)
    import_transcript_file = Op("POST", f"{V1}/meetings/import", None, MeetingOut, form=True)
    get_meeting = Op("GET", f"{V1}/meetings/{{meeting_id}}", None, MeetingOut)
    get_transcript = Op("GET", f"{V1}/meetings/{{meeting_id}}/transcript", None, TranscriptOut)
    create_meeting_source = Op("POST", f"{V1}/meeting-sources", MeetingSourceIn, MeetingSourceOut)
    list_meeting_sources = ListOp("GET", f"{V1}/meeting-sources", None, MeetingSourceOut)
    delete_meeting_source = Op("DELETE", f"{V1}/meeting-sources/{{source_id}}", None, Deleted)
    meeting_event = Op(
        "POST", f"{V1}/meetings/events/{{source_id}}", None, CallbackOut, signed=True
    )
    # outside /api/v1, no key
    healthz = Op("GET", "/healthz", None, dict[str, Any])
    readyz = Op("GET", "/readyz", None, dict[str, Any])
    metrics = Op("GET", "/metrics", None, str)


def all_operations() -> dict[str, Op[Any] | ListOp[Any]]:
    """The table by method name (what the coverage test compares with the OpenAPI document)."""
    return {
        name: value for name, value in vars(Operations).items() if isinstance(value, Op | ListOp)
    }
