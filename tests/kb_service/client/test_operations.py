"""The client's operations table against the app's OpenAPI document: the whole schema, typed alike.

Every operation of `app.openapi()` has exactly one table entry and every entry names a
real operation; each entry's request model, response model and list-ness are the ones
the document gives (by schema name: the table uses the app's own models).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from kb_service.api.app import create_app
from kb_service.client.operations import all_operations
from tests.conftest import make_settings

METHODS = ("get", "post", "put", "patch", "delete")


def app_for(tmp_path: Path) -> FastAPI:
    return create_app(settings=make_settings(tmp_path), start_workers=False)


def document_operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    }


def coverage_gaps(doc: dict[str, Any]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(operations without a table entry, table entries without an operation)."""
    api = set(document_operations(doc))
    table = {(op.method, op.path) for op in all_operations().values()}
    return api - table, table - api


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return app_for(tmp_path_factory.mktemp("openapi")).openapi()


def test_every_operation_has_one_client_entry_and_no_entry_is_dangling(
    openapi: dict[str, Any],
) -> None:
    missing, dangling = coverage_gaps(openapi)
    assert missing == set(), f"routes without a line in kb_service/client/operations.py: {missing}"
    assert dangling == set(), f"client entries for routes the app does not have: {dangling}"
    pairs = [(op.method, op.path) for op in all_operations().values()]
    assert len(pairs) == len(set(pairs)), "an operation has two table entries"


def test_a_new_route_without_a_client_entry_is_reported(tmp_path: Path) -> None:
    app = app_for(tmp_path)

    @app.get("/api/v1/meetings-new")
    def listing() -> dict[str, str]:
        return {}

    missing, dangling = coverage_gaps(app.openapi())
    assert missing == {("GET", "/api/v1/meetings-new")} and dangling == set()


def test_an_entry_for_a_removed_route_is_reported(openapi: dict[str, Any]) -> None:
    paths = {p: ops for p, ops in openapi["paths"].items() if p != "/readyz"}
    missing, dangling = coverage_gaps({**openapi, "paths": paths})
    assert missing == set() and dangling == {("GET", "/readyz")}


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _model_name(model: Any) -> str:
    if model == dict[str, Any]:
        return "dict_str__Any_"
    return str(model.__name__)


@pytest.mark.parametrize("name", sorted(all_operations()))
def test_entry_types_match_the_document(name: str, openapi: dict[str, Any]) -> None:
    op = all_operations()[name]
    spec = document_operations(openapi)[(op.method, op.path)]
    success = next(r for code, r in spec["responses"].items() if code.startswith("2"))
    content = success.get("content", {})
    envelope = _ref_name(content.get("application/json", {}).get("schema", {}))
    if envelope is None:  # health and metrics: no envelope model
        assert op.response in (str, dict[str, Any]) and not op.paged
        assert ("text/plain" in content) == (op.response is str)
    else:
        kind = "ListEnvelope" if op.paged else "Envelope"
        assert envelope == f"{kind}_{_model_name(op.response)}_", envelope
    body = spec.get("requestBody", {}).get("content", {})
    json_body = _ref_name(body.get("application/json", {}).get("schema", {}))
    if op.request is not None:
        assert json_body == op.request.__name__
    elif op.signed:
        assert set(body) == {"application/json"} and json_body is None  # raw signed bytes
    else:
        assert json_body is None
    assert ("multipart/form-data" in body) == (op.form or name == "ingest")
    query = {p["name"] for p in spec.get("parameters", []) if p["in"] == "query"}
    assert ({"limit", "cursor"} <= query) == op.paged
    path_params = [p["name"] for p in spec.get("parameters", []) if p["in"] == "path"]
    assert sorted(path_params) == sorted(op.path_params)
