"""Request input is held to `kb_service.strict_json`'s rule before any route runs.

Every router of the API uses `StrictJsonRoute`. FastAPI parses a JSON body with the
request's `json()` and turns any error of it into a bare 400, so the route parses the
body first, before FastAPI's handler runs: a refused body is a 422 naming the field
(`InvalidInput`), and FastAPI and the routes that read the body themselves (ingest)
get the already-parsed value from `StrictJsonRequest.json()`.

Path and query parameters keep the text rule (valid Unicode, no U+0000), also a 422
naming the parameter: PostgreSQL cannot even compare a string holding U+0000, so an
id with one would otherwise fail the lookup instead of finding nothing.

The signed meeting callbacks use `StrictParamsRoute` (parameters only): their service
checks the signature over the raw bytes first, then parses them with the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from kb_service import strict_json

_UNPARSED = object()


class StrictJsonRequest(Request):
    """A request whose `json()` is `strict_json.loads` of the body (parsed once)."""

    _strict_json: Any = _UNPARSED

    async def json(self) -> Any:
        if self._strict_json is _UNPARSED:
            self._strict_json = strict_json.loads(await self.body())
        return self._strict_json


class StrictParamsRoute(APIRoute):
    """An API route whose path and query parameters are refused (422) unless valid text."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def params_handler(request: Request) -> Response:
            for name, value in request.path_params.items():
                if isinstance(value, str):
                    strict_json.checked_text(value, field=name)
            for name, value in request.query_params.multi_items():
                strict_json.checked_text(name, field=name)
                strict_json.checked_text(value, field=name)
            return await handler(request)

        return params_handler


class StrictJsonRoute(StrictParamsRoute):
    """An API route whose JSON body is refused (422) unless it keeps the strict-JSON rule."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            request = StrictJsonRequest(request.scope, request.receive)
            if is_json(request.headers.get("content-type")) and await request.body():
                await request.json()  # refused here: FastAPI would answer a bare 400
            return await handler(request)

        return strict_handler


def is_json(content_type: str | None) -> bool:
    """`application/json` or `application/*+json`, as FastAPI decides whether to parse a body."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
