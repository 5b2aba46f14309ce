"""Strict JSON: the one rule for every JSON value the service accepts or stores.

Every JSON input (request bodies, the multipart `metadata` field, signed meeting
callbacks) is parsed by `loads`; every metadata object (of a knowledge base, project,
ingest request or text record) also passes `checked_metadata`; every SQL JSON column
is written by `dumps_for_storage`, so a value that slipped past both fails before its
transaction commits, never after. Path and query parameters keep the text rule
(`checked_text`, applied by the API's route classes).

| rule | request bodies, callbacks | metadata objects |
|---|---|---|
| numbers | RFC 8259 only: no NaN, Infinity, -Infinity, none that overflows to inf (1e999) | same |
| integers | at most 20 digits | within signed 64 bits (SQLite, PostgreSQL and Qdrant keep them exact) |
| depth | 64 nested arrays/objects | 16, counting the metadata object itself |
| text (keys and values) | valid Unicode: no lone surrogate (U+D800-U+DFFF), no U+0000 (PostgreSQL cannot hold it) | same |
| size | `KB_MAX_UPLOAD_MB` (the body limit); callbacks 256 KiB | 64 KiB serialised |

A refused value is `InvalidInput` (or `PayloadTooLarge` for size) whose message names
the field path, e.g. "metadata.score: NaN is not allowed in JSON", with that path in
`errors[0]["field"]`. Bytes must be UTF-8 (or UTF-16/32 with the encoding JSON allows).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from kb_service.errors import InvalidInput, PayloadTooLarge

MAX_BODY_DEPTH = 64
MAX_METADATA_DEPTH = 16
MAX_INT_DIGITS = 20
MAX_METADATA_BYTES = 64 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_BAD_CHAR = re.compile("[\ud800-\udfff\x00]")
_SHOWN = re.compile("[\ud800-\udfff\x00-\x1f\x7f]")


@dataclass(frozen=True)
class _Limits:
    depth: int
    int64: bool  # integers within signed 64 bits (bodies: the parser's MAX_INT_DIGITS only)


BODY = _Limits(depth=MAX_BODY_DEPTH, int64=False)
METADATA = _Limits(depth=MAX_METADATA_DEPTH, int64=True)
STORED = _Limits(depth=MAX_BODY_DEPTH, int64=True)


class RefusedJSON(ValueError):
    """A value breaks the rule at `path` (a tuple of keys and indexes)."""

    def __init__(self, path: tuple[str | int, ...], problem: str, kind: str) -> None:
        self.path, self.problem, self.kind = path, problem, kind
        super().__init__(f"{dotted(path) or 'value'}: {problem}")


@dataclass(frozen=True)
class _Constant:
    """What the parser made of NaN, Infinity or -Infinity (refused by the walk, with its path)."""

    name: str


@dataclass(frozen=True)
class _LongInteger:
    digits: int


def loads(raw: bytes | str, *, field: str | None = None) -> Any:
    """Parse one JSON document under the request-body limits; `InvalidInput` naming the path."""
    prefix: tuple[str | int, ...] = (field,) if field else ()
    try:
        text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise _invalid(RefusedJSON(prefix, "not valid UTF-8", "json_invalid")) from None
    try:
        value = json.loads(text, parse_constant=_Constant, parse_int=_integer)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise _invalid(RefusedJSON(prefix, f"not valid JSON ({where})", "json_invalid")) from None
    except RecursionError:
        problem = f"nested more than {MAX_BODY_DEPTH} levels deep"
        raise _invalid(RefusedJSON(prefix, problem, "too_deep")) from None
    try:
        check(value, BODY, prefix)
    except RefusedJSON as refused:
        raise _invalid(refused) from None
    return value


def checked_metadata(value: dict[str, Any], *, field: str = "metadata") -> dict[str, Any]:
    """`value` if it keeps the metadata limits, else `InvalidInput`/`PayloadTooLarge`."""
    path = tuple(field.split("."))
    try:
        check(value, METADATA, path)
    except RefusedJSON as refused:
        raise _invalid(refused) from None
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_METADATA_BYTES:
        limit = f"{MAX_METADATA_BYTES // 1024} KiB"
        raise PayloadTooLarge(
            f"{field}: at most {limit} of JSON is allowed (this is {size // 1024} KiB)",
            errors=[{"field": field, "message": f"over {limit}", "type": "too_large"}],
        )
    return value


def is_valid_text(value: str) -> bool:
    """True when `value` keeps the text rule (no lone surrogate, no U+0000)."""
    return _BAD_CHAR.search(value) is None


def checked_text(value: str, *, field: str) -> str:
    """`value` if it is valid Unicode without U+0000 (the text rule), else `InvalidInput`."""
    try:
        _check_text(value, (field,), "string")
    except RefusedJSON as refused:
        raise _invalid(refused) from None
    return value


def dumps_for_storage(value: Any) -> str:
    """The SQL JSON columns' serialiser: `RefusedJSON` (a ValueError) for what cannot be read back."""
    check(value, STORED, ())
    return json.dumps(value, allow_nan=False)


def check(value: Any, limits: _Limits, path: tuple[str | int, ...] = ()) -> None:
    """Raise `RefusedJSON` at the first place where `value` breaks `limits`."""
    _walk(value, limits, path, 0)


def dotted(path: tuple[str | int, ...], *, brief: bool = False) -> str:
    """A path for messages: keys shortened and escaped so the message itself is valid text.

    `brief` elides the middle of a deep path (the first 4 and last 2 parts stay).
    """
    parts = [_shown(str(part)) for part in path]
    if brief and len(parts) > 8:
        return ".".join(parts[:4]) + "..." + ".".join(parts[-2:])
    return ".".join(parts)


def _walk(value: Any, limits: _Limits, path: tuple[str | int, ...], depth: int) -> None:
    if isinstance(value, str):
        _check_text(value, path, "string")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        _check_integer(value, limits, path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            problem = "NaN" if math.isnan(value) else "a number that overflows to infinity"
            raise RefusedJSON(path, f"{problem} is not allowed in JSON", "not_finite")
    elif isinstance(value, _Constant):
        raise RefusedJSON(path, f"{value.name} is not allowed in JSON", "not_finite")
    elif isinstance(value, _LongInteger):
        problem = f"an integer may have at most {MAX_INT_DIGITS} digits (this has {value.digits})"
        raise RefusedJSON(path, problem, "integer_too_large")
    elif isinstance(value, dict | list | tuple):
        if depth >= limits.depth:
            raise RefusedJSON(path, f"nested more than {limits.depth} levels deep", "too_deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and isinstance(key, str):
                _check_text(key, (*path, key), "key")
            _walk(item, limits, (*path, key), depth + 1)
    else:
        raise RefusedJSON(path, f"a {type(value).__name__} is not a JSON value", "not_json")


def _check_text(text: str, path: tuple[str | int, ...], what: str) -> None:
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return
    char = bad.group()
    problem = (
        "U+0000 is not allowed"
        if char == "\x00"
        else f"a lone surrogate (\\u{ord(char):04x}) is not valid Unicode"
    )
    raise RefusedJSON(path, f"{problem} (character {bad.start()} of the {what})", "bad_text")


def _check_integer(value: int, limits: _Limits, path: tuple[str | int, ...]) -> None:
    if limits.int64 and not INT64_MIN <= value <= INT64_MAX:
        problem = "an integer must fit in signed 64 bits (-2^63 to 2^63-1)"
        raise RefusedJSON(path, problem, "integer_too_large")


def _integer(digits: str) -> int | _LongInteger:
    count = len(digits.lstrip("-"))
    return _LongInteger(count) if count > MAX_INT_DIGITS else int(digits)


def _shown(part: str) -> str:
    part = part if len(part) <= 60 else part[:57] + "..."
    return _SHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", part)


def _invalid(refused: RefusedJSON) -> InvalidInput:
    field = dotted(refused.path) or None
    return InvalidInput(
        f"{dotted(refused.path, brief=True) or 'body'}: {refused.problem}",
        errors=[{"field": field, "message": refused.problem, "type": refused.kind}],
    )
