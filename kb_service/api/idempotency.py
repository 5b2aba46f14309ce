"""`Idempotency-Key` on every POST, as ASGI middleware (so multipart uploads are covered).

For a POST carrying the header from an authenticated caller, the raw body is read
once and hashed together with the method, path and query (for multipart bodies the
random boundary is blanked first, so a client retrying the same files with a new
boundary still matches). Then, per organization and key:

- first use: the key is claimed, the request runs, and its response (status, headers,
  body) is stored and kept for KB_IDEMPOTENCY_TTL_HOURS (24 h). The record holds only
  an HMAC of the key and the response sealed under the server secret and the key
  (`services/idempotency_seal.py`), so a new secret in it is unreadable from the
  database alone;
- a repeat: the stored response is replayed byte for byte with `Idempotent-Replayed: true`,
  after the checks every request gets (rate limit, X-Organization-Id) and only to a key
  whose role is at least that of the key that made the first request (else 403);
- the key with another method, path or body: 422 `idempotency_key_reused`;
- a repeat while the first request is still running: it waits (polling) up to
  KB_IDEMPOTENCY_WAIT_SECONDS for the first to finish and then replays it; if the
  first is still running after that, 409 `conflict` with Retry-After. So concurrent
  duplicates create exactly one object and, normally, all receive its response.

A replay is never worse than executing the request: answers that depend on the caller
or the moment rather than on the request (401, 403, 429 and every 5xx) are not stored;
the claim is released, so the next request with the key (the same caller later, or
another key with the rights) runs. Expired records are deleted by `purge_expired`,
which this middleware runs at most every PURGE_EVERY.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb_service import strict_json
from kb_service.api.deps import check_organization, spend_rate_limit
from kb_service.api.errors import send_error
from kb_service.db.base import utcnow
from kb_service.errors import Conflict, InvalidInput, ServiceError, Unauthenticated
from kb_service.services import idempotency as records
from kb_service.services.idempotency_seal import ResponseSeal
from kb_service.services.keys import authenticate

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
PURGE_EVERY = 600.0
_POLL = 0.1
# Answers about the caller or the moment, not the request: never replayed (>= 500 too).
UNRECORDED = frozenset({401, 403, 429})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._last_purge = 0.0
        self._seal: ResponseSeal | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER) if scope["type"] == "http" else None
        # A path that breaks the text rule is refused by its route (422) or matches none
        # (404), so nothing runs to be replayed; PostgreSQL could not store it anyway.
        if key is None or scope["method"] != "POST" or not strict_json.is_valid_text(scope["path"]):
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        try:
            if not 0 < len(key) <= MAX_KEY_LENGTH:
                raise InvalidInput(
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                    errors=[
                        {"field": "Idempotency-Key", "message": "bad length", "type": "value_error"}
                    ],
                )
            principal = await to_thread.run_sync(_principal, runtime.db, scope)
        except ServiceError as exc:
            await send_error(scope, send, exc)
            return
        if principal is None:  # unauthenticated: the route answers 401 as usual
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        try:
            # A replay never reaches the route, so the caller checks it would have made
            # happen here: the key's rate limit (spent once), then the organization header.
            state["rate_limited"] = True
            spend_rate_limit(scope["app"].state, principal)
            check_organization(principal, _header(scope, b"x-organization-id"))
        except ServiceError as exc:
            await send_error(scope, send, exc)
            return
        body = await _read_body(receive)
        await self._maybe_purge(runtime.db)
        settings = runtime.settings
        path = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
        )
        if self._seal is None:
            self._seal = ResponseSeal(runtime.secret_key)
        seal = self._seal
        params: dict[str, Any] = {
            "seal": seal,
            "principal": principal,
            "key": key,
            "method": "POST",
            "path": path[:2000],
            "request_hash": request_hash(_header(scope, b"content-type") or "", path, body),
            "ttl": timedelta(hours=settings.api.idempotency_ttl_hours),
        }
        deadline = time.monotonic() + settings.api.idempotency_wait_seconds
        while True:
            try:
                outcome = await to_thread.run_sync(
                    lambda: records.claim(runtime.db, now=utcnow(), **params)
                )
            except ServiceError as exc:
                await send_error(scope, send, exc)
                return
            if isinstance(outcome, records.Replay):
                await _replay(send, outcome)
                return
            if isinstance(outcome, records.Claimed):
                claim = _Claim(runtime.db, seal, key, outcome.record_id)
                await self._run_claimed(scope, body, receive, send, claim)
                return
            if time.monotonic() >= deadline:
                conflict = Conflict(
                    "A request with this Idempotency-Key is still in progress; retry shortly."
                )
                await send_error(scope, send, conflict, headers={"Retry-After": "1"})
                return
            await anyio.sleep(_POLL)

    async def _run_claimed(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, claim: _Claim
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(claim.release)
            raise
        status = int(start.get("status", 500))
        raw_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])
        ]
        payload = b"".join(chunks)
        if status >= 500 or status in UNRECORDED:
            await to_thread.run_sync(claim.release)
        else:
            await to_thread.run_sync(lambda: claim.complete(status, raw_headers, payload))
        await send(start)
        await send({"type": "http.response.body", "body": payload})

    async def _maybe_purge(self, db: Any) -> None:
        if time.monotonic() - self._last_purge >= PURGE_EVERY:
            self._last_purge = time.monotonic()
            await to_thread.run_sync(lambda: records.purge_expired(db, now=utcnow()))


@dataclass(frozen=True)
class _Claim:
    """A claimed key, to be completed with the response or released."""

    db: Any
    seal: ResponseSeal
    key: str
    record_id: str

    def complete(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        records.complete(
            self.db,
            self.record_id,
            seal=self.seal,
            key=self.key,
            status=status,
            headers=headers,
            body=body,
        )

    def release(self) -> None:
        records.release(self.db, self.record_id)


def _principal(db: Any, scope: Scope) -> Any:
    secret = _header(scope, b"x-api-key")
    authorization = _header(scope, b"authorization") or ""
    if not secret and authorization[:7].lower() == "bearer ":
        secret = authorization[7:].strip()
    try:
        return authenticate(db, secret=secret)
    except Unauthenticated:
        return None


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def request_hash(content_type: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path (+ query), media type and the raw body (boundary blanked)."""
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() == "multipart/form-data":
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                body = body.replace(value.strip('"').encode("latin-1"), b"")
    digest = hashlib.sha256()
    for part in (b"POST", path.encode(), media_type.strip().lower().encode()):
        digest.update(part + b"\n")
    digest.update(body)
    return digest.hexdigest()


async def _replay(send: Send, replay: records.Replay) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in replay.headers]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
