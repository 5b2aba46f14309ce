"""JSON and JSON Lines files: strict parsing, and records files split into records.

`load_json` parses strict JSON (no `NaN`/`Infinity`) and says where it breaks.
`records_in(filename, text, json_lines=)`: a *records file* is a JSON array of objects
that each have a string `text`, an object whose `documents` (or `records`) is such an
array (beside an optional shared `metadata`), or JSON Lines whose every line is such
an object: the shape of the JSON ingest body. Each record becomes its own document
(`JsonRecord`: `text`, `title`, `external_id`, `source_url`, `metadata`; other keys of
a record join its metadata). A record that breaks the ingest body's rules raises
`InvalidRecords`, naming it. Any other JSON is read as text by `ingest.json_text`.

Failure modes of `load_json`: `CorruptDocument` naming the line and column of invalid
JSON (or a `NaN`, or nesting too deep for the parser).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ingest.decoding import valid_unicode
from ingest.errors import CorruptDocument, IngestError

RECORD_KEYS = ("documents", "records")
MAX_TEXT_CHARS = 5_000_000
MAX_FIELD_CHARS = 500
_WEB = ("http://", "https://")


class InvalidRecords(IngestError):
    """A records file whose record breaks the rules of a JSON text record."""


@dataclass(frozen=True)
class JsonRecord:
    text: str
    title: str | None = None
    external_id: str | None = None
    source_url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def load_json(text: str, name: str, *, line: int | None = None) -> Any:
    """Parse strict JSON (no NaN/Infinity); CorruptDocument says where it breaks."""
    where = f"{name} line {line}" if line is not None else name
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}" if line is None else f"column {exc.colno}"
        raise CorruptDocument(f"{where} is not valid JSON ({exc.msg} at {at}).") from None
    except ValueError as exc:
        raise CorruptDocument(f"{where} is not valid JSON: {exc}.") from None
    except RecursionError:
        raise CorruptDocument(f"{where} nests JSON too deeply to be read.") from None


def nonblank_lines(text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


# ------------------------------------------------------------------ records


def records_in(filename: str, text: str, *, json_lines: bool) -> list[JsonRecord] | None:
    """The records of a records file (see the module), or None for any other JSON."""
    name = PurePath(filename).name or "The file"
    try:
        if json_lines:
            values: Any = [load_json(line, name, line=n) for n, line in nonblank_lines(text)]
        else:
            values = load_json(text, name)
    except CorruptDocument:
        return None  # not JSON at all: the parser reports it for the document
    shared: dict[str, Any] = {}
    if isinstance(values, dict):
        key = next((k for k in RECORD_KEYS if isinstance(values.get(k), list)), None)
        if key is None or set(values) - {key, "metadata"}:
            return None
        if isinstance(values.get("metadata"), dict):
            shared = values["metadata"]
        elif "metadata" in values:
            return None
        values = values[key]
    if not isinstance(values, list) or not values:
        return None
    if not all(isinstance(v, dict) and isinstance(v.get("text"), str) for v in values):
        return None
    return [_record(name, position, raw, shared) for position, raw in enumerate(values)]


def _valid_unicode(value: str) -> str:
    """Lone surrogates become U+FFFD (`valid_unicode`); NUL characters go."""
    return valid_unicode(value).replace("\x00", "")


def _record(name: str, position: int, raw: dict[str, Any], shared: dict[str, Any]) -> JsonRecord:
    where = f"{name}: record {position + 1}"
    text = _valid_unicode(raw["text"])
    if not text.strip():
        raise InvalidRecords(f"{where} has an empty 'text'.")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRecords(f"{where}: 'text' has more than {MAX_TEXT_CHARS:,} characters.")
    fields: dict[str, str | None] = {}
    for key in ("title", "external_id", "source_url"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key == "external_id":
            value = str(value)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise InvalidRecords(f"{where}: '{key}' must be a non-empty string.")
        limit = 2000 if key == "source_url" else MAX_FIELD_CHARS
        if value is not None and len(value) > limit:
            raise InvalidRecords(f"{where}: '{key}' has more than {limit} characters.")
        if key == "source_url" and value is not None and not value.startswith(_WEB):
            raise InvalidRecords(f"{where}: 'source_url' must be an http(s) URL.")
        fields[key] = _valid_unicode(value) if value is not None else None
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InvalidRecords(f"{where}: 'metadata' must be an object.")
    extra = {k: v for k, v in raw.items() if k not in ("text", "metadata", *fields)}
    return JsonRecord(
        text=text,
        title=fields["title"],
        external_id=fields["external_id"],
        source_url=fields["source_url"],
        metadata={**shared, **extra, **metadata},
    )
