"""JSON and JSON Lines files: records become documents, anything else readable text.

Two readings of one parsed file:

- `records_in(filename, content)`: a *records file* is a JSON array of objects that
  each have a string `text`, an object whose `documents` (or `records`) is such an
  array, or JSON Lines whose every line is such an object: the shape of the JSON
  ingest body. Each record becomes its own document (`JsonRecord`: `text`, `title`,
  `external_id`, `source_url`, `metadata`; other keys of a record join its metadata).
  A record that breaks the ingest body's rules raises `InvalidRecords`, naming it.
- `partition_json_text` / `partition_jsonl_text`: any other JSON is flattened into
  `key: value` lines, one piece per line, under a heading that is the JSON path of the
  object the lines belong to (`service.ports`, `items[2]`; JSON Lines: `line 3`), so a
  chunk's heading path says where in the file its values sit.

Failure modes: `CorruptDocument` naming the line and column of invalid JSON (or a
`NaN`, or nesting deeper than `MAX_DEPTH`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ingest.decoding import valid_unicode
from ingest.errors import CorruptDocument, IngestError
from ingest.normalise import TEXT, TITLE, Piece
from ingest.partitioners import Partitioned

MAX_DEPTH = 64
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


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


# ------------------------------------------------------------------ records


def records_in(filename: str, text: str, *, json_lines: bool) -> list[JsonRecord] | None:
    """The records of a records file (see the module), or None for any other JSON."""
    name = PurePath(filename).name or "The file"
    try:
        if json_lines:
            values: Any = [load_json(line, name, line=n) for n, line in _lines(text)]
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


# ------------------------------------------------------------------ flattening


def _clean(value: str) -> str:
    """One line of valid Unicode: lone surrogates become U+FFFD, whitespace collapses."""
    return " ".join(valid_unicode(value).split())


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    return json.dumps(value)  # numbers, true/false, null


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = _clean(key) or '""'
    return f"{path}.{key}" if path else key


def _flatten(value: Any, path: str, depth: int, name: str, out: list[Piece]) -> None:
    if depth > MAX_DEPTH:
        raise CorruptDocument(f"{name} nests JSON deeper than {MAX_DEPTH} levels.")
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items.extend(value.items())
    else:
        items.extend(enumerate(value))
    lines: list[str] = []
    nested: list[tuple[str | int, Any]] = []
    for key, item in items:
        label = (_clean(key) or '""') if isinstance(key, str) else f"[{key}]"
        if _is_scalar(item):
            text = _scalar(item)
        elif isinstance(item, list) and item and all(_is_scalar(v) for v in item):
            text = ", ".join(t for t in map(_scalar, item) if t)
        else:
            nested.append((key, item))
            continue
        if text:
            lines.append(f"{label}: {text}")
    if lines:
        if path:
            out.append(Piece(path, TITLE, level=1))
        out.extend(Piece(line, TEXT) for line in lines)
    for key, item in nested:
        _flatten(item, _child(path, key), depth + 1, name, out)


def flatten_json(value: Any, name: str, path: str = "") -> list[Piece]:
    """Pieces of one parsed JSON value: headings by JSON path, one `key: value` per line."""
    if _is_scalar(value):
        text = _scalar(value)
        heading = [Piece(path, TITLE, level=1)] if path and text else []
        return [*heading, Piece(text, TEXT)] if text else []
    out: list[Piece] = []
    _flatten(value, path, 0, name, out)
    return out


def _title(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("title", "name"):
            if isinstance(value.get(key), str) and value[key].strip():
                return _clean(value[key])[:MAX_FIELD_CHARS]
    return None


def partition_json_text(text: str, name: str) -> Partitioned:
    """A JSON file, flattened (records files included: their fields as lines)."""
    value = load_json(text, name)
    return Partitioned(flatten_json(value, name), _title(value), headings_are_titles=False)


def partition_jsonl_text(text: str, name: str) -> Partitioned:
    """JSON Lines: each line flattened under the heading `line N`."""
    pieces: list[Piece] = []
    lines = _lines(text)
    for number, line in lines:
        pieces.extend(flatten_json(load_json(line, name, line=number), name, f"line {number}"))
    return Partitioned(pieces, headings_are_titles=False, metadata={"line_count": len(lines)})
