"""Verifying a webhook delivery on the receiver's side (the Standard Webhooks scheme).

A delivery carries `webhook-id` (the event id, stable across retries: de-duplicate on
it), `webhook-timestamp` (Unix seconds) and `webhook-signature`: one or more
space-separated `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, where the
key is the base64 after `whsec_` of the endpoint's secret. During the 24 h after
`rotate-secret` the old and the new secret both sign (two `v1,` entries), so a
receiver holding either verifies; a receiver may also hold both (pass a list).
The body must be the raw bytes received: re-serialised JSON does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from kb_service.client.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivery's event (`{id, type, created_at, organization_id, data}`), once verified.

    Raises `WebhookVerificationError` when a header is missing, the timestamp is more
    than `tolerance` seconds from `now` (either way: a replayed old delivery), or no
    `v1` signature matches any of the secrets.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        stamp = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"The delivery has no {missing.args[0]} header.") from None
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds.") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is {current - timestamp:+.0f} s from now, outside the "
            f"{tolerance:.0f} s tolerance."
        )
    signed = f"{msg_id}.{timestamp}.".encode() + raw
    expected = [_signature(key, signed) for key in _keys(secret)]
    offered = [s.removeprefix("v1,") for s in signatures.split() if s.startswith("v1,")]
    if not any(hmac.compare_digest(e, o.encode()) for e in expected for o in offered):
        raise WebhookVerificationError("No webhook-signature matches the secret.")
    try:
        event = json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("The signed body is not JSON.") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("The signed body is not an event object.")
    return event


def _keys(secret: str | Sequence[str]) -> list[bytes]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("give at least one webhook secret")
    keys = []
    for value in secrets:
        try:
            keys.append(base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True))
        except binascii.Error:
            raise ValueError("a webhook secret is 'whsec_' followed by base64") from None
    return keys


def _signature(key: bytes, signed: bytes) -> bytes:
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
