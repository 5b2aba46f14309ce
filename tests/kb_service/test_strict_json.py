"""The strict-JSON rule at its limits: exactly at a limit passes, one past it is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kb_service import strict_json
from kb_service.errors import InvalidInput, PayloadTooLarge


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_limits_are_inclusive() -> None:
    strict_json.loads("[" * 64 + "]" * 64)
    with pytest.raises(InvalidInput, match="nested more than 64 levels"):
        strict_json.loads("[" * 65 + "]" * 65)
    strict_json.loads("9" * 20)
    with pytest.raises(InvalidInput, match="at most 20 digits"):
        strict_json.loads("-" + "9" * 21)
    strict_json.checked_metadata(_nested(16))
    with pytest.raises(InvalidInput, match="nested more than 16 levels"):
        strict_json.checked_metadata(_nested(17))
    strict_json.checked_metadata({"low": -(2**63), "high": 2**63 - 1})
    for beyond in (-(2**63) - 1, 2**63):
        with pytest.raises(InvalidInput, match="signed 64 bits"):
            strict_json.checked_metadata({"n": beyond})
    filler = 64 * 1024 - len('{"k": ""}')
    strict_json.checked_metadata({"k": "x" * filler})
    with pytest.raises(PayloadTooLarge, match="at most 64 KiB"):
        strict_json.checked_metadata({"k": "x" * (filler + 1)})


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        (b'{"a": [1, NaN]}', "a.1", "NaN is not allowed in JSON"),
        (b'{"a": -Infinity}', "a", "-Infinity is not allowed in JSON"),
        (b'{"a": 1e400}', "a", "overflows to infinity"),
        (b'{"a": "\\ud83d"}', "a", "lone surrogate (\\ud83d)"),
        (b'{"\\udfff": 1}', "\\udfff", "of the key"),
        (b'{"a": "x\\u0000"}', "a", "U+0000"),
        (b'{"a": "\xed\xa0\x80"}', None, "not valid UTF-8"),
        (b'{"a": ', None, "not valid JSON"),
    ],
)
def test_refusals_name_the_field_in_text_that_can_itself_be_sent(
    raw: bytes, field: str | None, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        strict_json.loads(raw)
    (error,) = refused.value.errors or []
    assert error["field"] == field and problem in error["message"]
    assert refused.value.message == f"{field or 'body'}: {error['message']}"
    json.dumps(refused.value.errors, ensure_ascii=False).encode("utf-8")  # no surrogate leaks


def test_a_paired_surrogate_escape_is_ordinary_text() -> None:
    assert strict_json.loads(b'{"emoji": "\\ud83d\\ude00"}') == {"emoji": "\N{GRINNING FACE}"}


def test_a_multipart_field_is_named_in_its_paths() -> None:
    with pytest.raises(InvalidInput, match=r"^metadata\.score: NaN"):
        strict_json.loads('{"score": NaN}', field="metadata")


@pytest.mark.parametrize("poison", [float("nan"), float("inf"), "\udc80", "\x00", 2**64, object()])
def test_storage_refuses_what_could_not_be_read_back(poison: Any) -> None:
    with pytest.raises(ValueError):
        strict_json.dumps_for_storage({"k": [poison]})
    assert strict_json.dumps_for_storage({"k": ["é", 1.5, None]}) == '{"k": ["\\u00e9", 1.5, null]}'
