"""The OpenAPI document describes the headers, errors and examples clients rely on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from kb_service.api.app import create_app
from kb_service.api.envelope import Envelope, ErrorEnvelope
from kb_service.api.schemas.knowledge_bases import KnowledgeBaseOut
from kb_service.api.schemas.query import QueryOut
from tests.conftest import make_settings

API = "/api/v1"
CALLBACK = ("post", f"{API}/meetings/events/{{source_id}}")
ACCEPT = ("post", f"{API}/invitations/{{token}}/accept")
CODES = {
    401: {"unauthorized"},
    403: {"forbidden"},
    404: {"not_found"},
    409: {"conflict"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    422: {"validation_error", "idempotency_key_reused"},
    429: {"rate_limited"},
    500: {"internal"},
    503: {"not_ready"},
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = make_settings(Path(tmp_path_factory.mktemp("openapi")))
    return create_app(settings=settings, start_workers=False).openapi()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in ("get", "put", "post", "patch", "delete"):
            if method in item:
                yield method, path, item[method]


def examples(response: dict[str, Any]) -> list[Any]:
    media = response.get("content", {}).get("application/json", {})
    return [e["value"] for e in media.get("examples", {}).values()]


def test_every_api_key_post_documents_idempotency_key(spec: dict[str, Any]) -> None:
    posts = [(m, p, op) for m, p, op in operations(spec) if m == "post" and p.startswith(API)]
    assert len(posts) >= 10
    for method, path, op in posts:
        params = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if (method, path) in (CALLBACK, ACCEPT):
            # signed callbacks dedupe by (meetingId, sequence) and an invitation token
            # works once; the middleware keys replays by API key, so it skips both
            assert params == [], path
            continue
        assert len(params) == 1, path
        (param,) = params
        assert param["in"] == "header" and param["required"] is False
        assert param["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
        assert "Idempotent-Replayed" in param["description"]
        assert "idempotency_key_reused" in param["description"]
        success = next(r for s, r in op["responses"].items() if s.startswith("2"))
        assert "Idempotent-Replayed" in success["headers"]
        assert "idempotency_key_reused" in {
            body["meta"]["code"] for body in examples(op["responses"]["422"])
        }


def test_every_operation_has_error_examples_in_the_envelope(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}
        assert errors, (method, path)
        for status, response in errors.items():
            bodies = examples(response)
            assert bodies, (method, path, status)
            for body in bodies:
                assert set(body) == {"success", "data", "message", "meta"}
                assert body["success"] is False and body["data"] is None
                assert body["message"] and body["meta"]["request_id"]
                assert body["meta"]["code"] in CODES[status], (method, path, status)
                ErrorEnvelope.model_validate(body)
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_every_response_documents_its_request_id(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            assert "X-Request-Id" in response["headers"], (method, path, status)
            if status == "429":
                assert "Retry-After" in response["headers"], (method, path)


def test_api_errors_only_where_an_api_key_is_checked(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        statuses = set(op["responses"])
        if not path.startswith(API):
            assert not statuses & {"401", "403", "409", "413", "422", "429"}, path
        elif (method, path) == CALLBACK:
            assert "401" in statuses and not statuses & {"403", "429"}
        elif (method, path) == ACCEPT:
            assert {"404", "409"} <= statuses and not statuses & {"401", "403", "429"}
        else:
            assert {"401", "403", "404", "422", "429", "500"} <= statuses, (method, path)
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]
    assert "415" in spec["paths"][f"{API}/knowledge-bases/{{kb_id}}/ingest"]["post"]["responses"]


@pytest.mark.parametrize(
    ("path", "status", "model"),
    [
        (f"{API}/knowledge-bases", "201", Envelope[KnowledgeBaseOut]),
        (f"{API}/knowledge-bases/{{kb_id}}/query", "200", Envelope[QueryOut]),
        (f"{API}/search", "200", Envelope[QueryOut]),
    ],
)
def test_success_examples_are_valid_responses(
    spec: dict[str, Any], path: str, status: str, model: type[BaseModel]
) -> None:
    (body,) = examples(spec["paths"][path]["post"]["responses"][status])
    assert set(body) == {"success", "data", "message", "meta"} and body["success"] is True
    model.model_validate(body)
    if "answer" in body["data"]:
        citations = body["data"]["citations"]
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["data"]["answer"])}
        assert markers == {c["index"] for c in citations}
        for c in citations:
            assert c["char_end"] - c["char_start"] == len(c["text"])


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in set(refs(spec)):
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def test_links_name_real_operations_and_fill_their_path_parameters(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: (method, path, op) for method, path, op in operations(spec)}
    followed = set()
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            for name, link in response.get("links", {}).items():
                assert status.startswith("2"), (method, path, name)
                target_method, target_path, target = by_id[link["operationId"]]
                wanted = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                assert set(link["parameters"]) == wanted, (name, target_path)
                for expression in link["parameters"].values():
                    assert expression.startswith(("$response.body#/data/", "$request.path."))
                followed.add((method, path, target_method, target_path))
    assert len(followed) >= 30
    # every create links on to what it created, except accepting an invitation: its
    # token is in no response, so no chain can reach it
    for method, path, op in operations(spec):
        if method == "post" and "201" in op["responses"] and (method, path) != ACCEPT:
            assert op["responses"]["201"].get("links"), path
