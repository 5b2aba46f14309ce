"""Standard Webhooks signatures (https://www.standardwebhooks.com).

The secret is `whsec_` + base64 of 24 random bytes; the HMAC key is the decoded bytes.
Each signature is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); several
are separated by spaces, which is how both secrets sign during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three `webhook-*` headers, with one `v1,` signature per secret."""
    signatures = " ".join(
        signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_
    )
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }
