"""The uniform response envelope `{success, data, message, meta}`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ErrorMeta(BaseModel):
    code: str
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    data: T
    message: str | None = None
    meta: dict[str, Any] | None = None


class ListMeta(BaseModel):
    next_cursor: str | None


class ListEnvelope(BaseModel, Generic[T]):
    success: bool = True
    data: list[T]
    message: str | None = None
    meta: ListMeta


class ErrorEnvelope(BaseModel):
    success: bool = False
    data: None = None
    message: str
    meta: ErrorMeta


def ok(data: Any, *, message: str | None = None) -> dict[str, Any]:
    return {"success": True, "data": data, "message": message, "meta": None}


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"success": True, "data": items, "message": None, "meta": {"next_cursor": next_cursor}}


def error_body(
    code: str, message: str, request_id: str | None, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"code": code, "request_id": request_id}
    if errors is not None:
        meta["errors"] = errors
    return {"success": False, "data": None, "message": message, "meta": meta}
