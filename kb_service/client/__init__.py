"""A typed Python client for kb-service: `Client` (blocking) and `AsyncClient` (asyncio).

Both expose every operation of `kb_service.client.operations` as a method taking the
app's own request models and returning its response models, raise the API's error
envelope as `kb_service.client.errors`, add an `Idempotency-Key` to every POST and
retry what is safe to retry (`kb_service.client.retries`). `verify_webhook` checks a
delivery on the receiver's side.
"""

from kb_service.client.asynchronous import AsyncClient
from kb_service.client.binding import Page
from kb_service.client.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    IdempotencyKeyReused,
    JobTimeout,
    KbClientError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
    WebhookVerificationError,
)
from kb_service.client.retries import RetryPolicy
from kb_service.client.streams import StreamEvent
from kb_service.client.sync import Client
from kb_service.client.webhooks import verify_webhook

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "IdempotencyKeyReused",
    "JobTimeout",
    "KbClientError",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "StreamEvent",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "WebhookVerificationError",
    "verify_webhook",
]
