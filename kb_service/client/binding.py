"""How one line of the operations table becomes a typed method of `Client` and `AsyncClient`.

An `Op` (one object) or `ListOp` (a page of objects) is a descriptor: read on a
`Client` it is a `Call` (a `ListCall` for lists), on an `AsyncClient` an `AsyncCall`
(`AsyncListCall`), so a new table line is a new method of both clients. A call takes
the path parameters positionally in template order, then either `body=` (the request
model or a dict) or its fields as keywords, which are validated with the app's own
request model before anything is sent; an operation without a request model sends
its keywords as query parameters. `prepare` builds the request once per call (one
`Idempotency-Key` for every retry of it) and `decode` turns the answer into the
response model, or raises the typed error of `kb_service.client.errors`.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import json
import string
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from kb_service.client.errors import error_of
from kb_service.client.retries import SAFE_METHODS

T = TypeVar("T")
SIGNATURE_HEADER = "X-Sasha-Signature"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Prepared:
    """One logical call, ready to be sent (and sent again, unchanged, on a retry)."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    content: bytes | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: list[tuple[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    authenticated: bool = True
    replay_safe: bool = False
    keyed: bool = False


class Operation(Generic[T]):
    """method, path template, request model (None: no body), response type (`str`: raw text)."""

    paged = False

    def __init__(
        self,
        method: str,
        path: str,
        request: type[Any] | None,
        response: type[T],
        *,
        form: bool = False,
        signed: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.request = request
        self.response = response
        self.form = form  # multipart/form-data (files); the helpers build it
        self.signed = signed  # signed by a meeting source's secret instead of an API key
        self.name = ""
        self.path_params = [f for _, f, _, _ in string.Formatter().parse(path) if f]
        self._adapter: TypeAdapter[Any] | None = None if response is str else TypeAdapter(response)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.method} {self.path})"

    def prepare(
        self,
        path_args: tuple[str, ...],
        body: Any,
        fields: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        files: list[tuple[str, Any]] | None = None,
    ) -> Prepared:
        if len(path_args) != len(self.path_params):
            raise TypeError(f"{self.name}() takes {self.path_params} positionally")
        values = {
            n: quote(str(v), safe="") for n, v in zip(self.path_params, path_args, strict=True)
        }
        call = Prepared(self.method, self.path.format(**values))
        if self.signed:
            self._sign(call, body, fields)
        elif self.form or files is not None:  # multipart (the ingest route takes both)
            call.data = {k: _form_value(v) for k, v in fields.items() if v is not None}
            call.files = files
        elif self.request is not None:
            call.json = _request_json(self.request, body, fields)
        else:
            call.params = {k: v for k, v in fields.items() if v is not None}
        call.replay_safe = self.method in SAFE_METHODS or self.signed
        if self.method == "POST" and not self.signed:
            call.headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
            call.keyed = call.replay_safe = True
        return call

    def _sign(self, call: Prepared, body: Any, fields: dict[str, Any]) -> None:
        secret = fields.pop("signing_secret", None)
        if not isinstance(secret, str):
            raise TypeError(f"{self.name}() needs signing_secret=, the meeting source's secret")
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        call.content = raw
        call.headers.update(
            {SIGNATURE_HEADER: f"sha256={digest}", "Content-Type": "application/json"}
        )
        call.authenticated = False

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise error_of(response)
        try:
            body = response.json()
        except ValueError:
            raise error_of(response) from None
        if not isinstance(body, dict) or body.get("success") is not True:
            raise error_of(response)
        return body

    def _value(self, data: Any) -> Any:
        assert self._adapter is not None
        return self._adapter.validate_python(data)


class Op(Operation[T]):
    """An operation answering one object (`data` is the response model)."""

    def decode(self, response: httpx.Response) -> T:
        if self.response is str:
            if response.status_code >= 400:
                raise error_of(response)
            return response.text  # type: ignore[return-value]
        return self._value(self._envelope(response)["data"])  # type: ignore[no-any-return]

    @overload
    def __get__(self, obj: None, owner: type) -> Op[T]: ...
    @overload
    def __get__(self, obj: SyncSender, owner: type) -> Call[T]: ...
    @overload
    def __get__(self, obj: AsyncSender, owner: type) -> AsyncCall[T]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if isinstance(obj, SyncSender):
            return Call(self, obj)
        if isinstance(obj, AsyncSender):
            return AsyncCall(self, obj)
        return self


class ListOp(Operation[T]):
    """An operation answering a page: `data` is a list, `meta.next_cursor` the next page."""

    paged = True

    def decode(self, response: httpx.Response) -> Page[T]:
        body = self._envelope(response)
        meta = body.get("meta") or {}
        return Page([self._value(item) for item in body["data"]], meta.get("next_cursor"))

    @overload
    def __get__(self, obj: None, owner: type) -> ListOp[T]: ...
    @overload
    def __get__(self, obj: SyncSender, owner: type) -> ListCall[T]: ...
    @overload
    def __get__(self, obj: AsyncSender, owner: type) -> AsyncListCall[T]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if isinstance(obj, SyncSender):
            return ListCall(self, obj)
        if isinstance(obj, AsyncSender):
            return AsyncListCall(self, obj)
        return self


class SyncSender(abc.ABC):
    @abc.abstractmethod
    def _send(self, call: Prepared) -> httpx.Response:
        """Send `call` with the retry policy; the last answer (raises ConnectionFailed)."""


class AsyncSender(abc.ABC):
    @abc.abstractmethod
    async def _send(self, call: Prepared) -> httpx.Response:
        """Send `call` with the retry policy; the last answer (raises ConnectionFailed)."""


class Call(Generic[T]):
    def __init__(self, op: Op[T], client: SyncSender) -> None:
        self.op, self.client = op, client

    def __call__(
        self, *path: str, body: Any = None, idempotency_key: str | None = None, **fields: Any
    ) -> T:
        call = self.op.prepare(path, body, fields, idempotency_key=idempotency_key)
        return self.op.decode(self.client._send(call))


class ListCall(Generic[T]):
    def __init__(self, op: ListOp[T], client: SyncSender) -> None:
        self.op, self.client = op, client

    def __call__(
        self, *path: str, limit: int | None = None, cursor: str | None = None, **query: Any
    ) -> Page[T]:
        call = self.op.prepare(path, None, {"limit": limit, "cursor": cursor, **query})
        return self.op.decode(self.client._send(call))

    def iterate(self, *path: str, limit: int = 100, **query: Any) -> Iterator[T]:
        """Every item of every page, following `next_cursor` (`limit` is the page size)."""
        cursor: str | None = None
        while True:
            page = self(*path, limit=limit, cursor=cursor, **query)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor


class AsyncCall(Generic[T]):
    def __init__(self, op: Op[T], client: AsyncSender) -> None:
        self.op, self.client = op, client

    async def __call__(
        self, *path: str, body: Any = None, idempotency_key: str | None = None, **fields: Any
    ) -> T:
        call = self.op.prepare(path, body, fields, idempotency_key=idempotency_key)
        return self.op.decode(await self.client._send(call))


class AsyncListCall(Generic[T]):
    def __init__(self, op: ListOp[T], client: AsyncSender) -> None:
        self.op, self.client = op, client

    async def __call__(
        self, *path: str, limit: int | None = None, cursor: str | None = None, **query: Any
    ) -> Page[T]:
        call = self.op.prepare(path, None, {"limit": limit, "cursor": cursor, **query})
        return self.op.decode(await self.client._send(call))

    async def iterate(self, *path: str, limit: int = 100, **query: Any) -> AsyncIterator[T]:
        """Every item of every page, following `next_cursor` (`limit` is the page size)."""
        cursor: str | None = None
        while True:
            page = await self(*path, limit=limit, cursor=cursor, **query)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor


def _request_json(model: type[Any], body: Any, fields: dict[str, Any]) -> Any:
    if isinstance(body, BaseModel) and not fields:
        if not isinstance(body, model):
            raise TypeError(f"expected a {model.__name__}, got a {type(body).__name__}")
        value = body
    elif body is None or isinstance(body, Mapping):
        value = TypeAdapter(model).validate_python({**(body or {}), **fields})
    else:
        raise TypeError(f"body must be a {model.__name__} or a mapping of its fields")
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return TypeAdapter(model).dump_python(value, mode="json")


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
