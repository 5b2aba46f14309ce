"""Every table, imported in one place so metadata and migrations see them all."""

from kb_service.db.base import Base
from kb_service.db.content import Chunk, Document, KnowledgeBase, Project
from kb_service.db.events import Event
from kb_service.db.idempotency import IdempotencyRecord
from kb_service.db.identity import ApiKey, Invitation, Member, Organization
from kb_service.db.jobs import IngestItem, IngestJob
from kb_service.db.meetings import (
    Meeting,
    MeetingCallback,
    MeetingSegment,
    MeetingSource,
)
from kb_service.db.sources import SourcePage, SourceSync, WebSource
from kb_service.db.tasks import Task, TaskRun
from kb_service.db.webhooks import DeliveryAttempt, Webhook, WebhookDelivery

__all__ = [
    "ApiKey",
    "Base",
    "Chunk",
    "DeliveryAttempt",
    "Document",
    "Event",
    "IdempotencyRecord",
    "IngestItem",
    "IngestJob",
    "Invitation",
    "KnowledgeBase",
    "Meeting",
    "MeetingCallback",
    "MeetingSegment",
    "MeetingSource",
    "Member",
    "Organization",
    "Project",
    "SourcePage",
    "SourceSync",
    "Task",
    "TaskRun",
    "WebSource",
    "Webhook",
    "WebhookDelivery",
]
