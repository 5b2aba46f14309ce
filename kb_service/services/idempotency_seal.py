"""Stored idempotent responses, sealed so that a database dump alone reveals nothing.

The first response to a POST can hold a secret shown only once (a new API key's `sk_`,
a webhook's `whsec_`, a meeting source's `ss_`). Its record keeps neither that secret
nor the Idempotency-Key readable:

- the record is found by `key_hash`, an HMAC-SHA256 of (organization id,
  Idempotency-Key) under a key derived from the server secret; the Idempotency-Key
  itself is never stored, and without the server secret it cannot be guessed offline;
- the response (headers and body) is sealed with AES-256-GCM under a key derived
  (HKDF-SHA256) from the server secret with the organization id and the
  Idempotency-Key as context: only a caller presenting the key, to a server holding
  the secret, can have it opened;
- the associated data `bound_to` (the record's organization, key hash, request hash
  and status) ties a sealed response to its record: moved or altered, it fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

Headers = list[tuple[str, str]]
_NONCE = 12


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _context(*parts: str | int) -> bytes:
    return json.dumps(parts, separators=(",", ":")).encode()


class ResponseSeal:
    """Key hashes and sealed responses under one server secret (`secret_key.server_secret`)."""

    def __init__(self, server_secret: bytes) -> None:
        if len(server_secret) < 32:
            raise ValueError("the server secret must be at least 32 bytes")
        self._secret = server_secret
        self._lookup = _derive(server_secret, b"kb-service idempotency key hash v1")

    def key_hash(self, organization_id: str, key: str) -> str:
        """The stored stand-in for an Idempotency-Key: 64 hex characters."""
        return hmac.new(self._lookup, _context(organization_id, key), hashlib.sha256).hexdigest()

    def bound_to(
        self, organization_id: str, key_hash: str, request_hash: str, status: int
    ) -> bytes:
        return _context(organization_id, key_hash, request_hash, status)

    def seal(
        self, organization_id: str, key: str, *, bound_to: bytes, headers: Headers, body: bytes
    ) -> bytes:
        plaintext = json.dumps(headers).encode() + b"\n" + body
        nonce = os.urandom(_NONCE)
        return nonce + self._cipher(organization_id, key).encrypt(nonce, plaintext, bound_to)

    def open(
        self, organization_id: str, key: str, *, bound_to: bytes, sealed: bytes
    ) -> tuple[Headers, bytes] | None:
        """The headers and body, or None when `sealed` was altered or sealed for another record."""
        try:
            plaintext = self._cipher(organization_id, key).decrypt(
                sealed[:_NONCE], sealed[_NONCE:], bound_to
            )
        except (InvalidTag, ValueError):
            return None
        headers, _, body = plaintext.partition(b"\n")  # JSON holds no raw newline
        return [(str(k), str(v)) for k, v in json.loads(headers)], body

    def _cipher(self, organization_id: str, key: str) -> AESGCM:
        info = b"kb-service idempotent response v1" + _context(organization_id, key)
        return AESGCM(_derive(self._secret, info))
