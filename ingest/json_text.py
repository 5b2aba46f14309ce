"""Any JSON that is not a records file, read as text: `key: value` under JSON paths.

- An object's scalar members (and arrays of scalars, joined by ", ") are one piece per
  `key: value` line, under a heading that is the object's JSON path (`catalog`,
  `catalog.owner`): a chunk's heading path says where in the file its values sit, and
  chunks never span two objects.
- An array of objects is a table: each element is one row piece, `[3] name: svc-3;
  tier: 1; slo.availability: 99.9%` (nested members with dotted keys), under the
  array's path; the chunker packs consecutive elements up to its budget, cuts between
  them and overlaps only whole elements, so a large export is a few chunks per many
  elements rather than one per element.
- JSON Lines: each line is a row piece, `Line 3: key: value; ...`.

Failure modes: `CorruptDocument` for invalid JSON (`json_files.load_json`) or nesting
deeper than `MAX_DEPTH` levels.
"""

from __future__ import annotations

import json
from typing import Any

from ingest.decoding import valid_unicode
from ingest.errors import CorruptDocument
from ingest.json_files import MAX_FIELD_CHARS, load_json, nonblank_lines
from ingest.normalise import ROW, TEXT, TITLE, Piece
from ingest.partitioners import Partitioned

MAX_DEPTH = 64


def _clean(value: str) -> str:
    """One line of valid Unicode: lone surrogates become U+FFFD, whitespace collapses."""
    return " ".join(valid_unicode(value).split())


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    return json.dumps(value)  # numbers, true/false, null


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _members(value: dict[str, Any] | list[Any]) -> list[tuple[str | int, Any]]:
    members: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        members.extend(value.items())
    else:
        members.extend(enumerate(value))
    return members


def _label(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = _clean(key) or '""'
    return f"{path}.{key}" if path else key


def _value_text(item: Any) -> str | None:
    """A scalar's text, or an array of scalars joined; None for anything nested."""
    if _is_scalar(item):
        return _scalar(item)
    if isinstance(item, list) and item and all(_is_scalar(v) for v in item):
        return ", ".join(t for t in map(_scalar, item) if t)
    return None


def _deeper(depth: int, name: str) -> int:
    if depth >= MAX_DEPTH:
        raise CorruptDocument(f"{name} nests JSON deeper than {MAX_DEPTH} levels.")
    return depth + 1


def _inline(value: Any, prefix: str, depth: int, name: str) -> list[str]:
    """`key: value` parts of a nested value, its keys dotted from `prefix`."""
    parts: list[str] = []
    for key, item in _members(value):
        label = _label(prefix, key)
        text = _value_text(item)
        if text is None:
            parts.extend(_inline(item, label, _deeper(depth, name), name))
        elif text:
            parts.append(f"{label}: {text}")
    return parts


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, dict | list) for v in value)


def _flatten(value: Any, path: str, depth: int, name: str, out: list[Piece]) -> None:
    heading = [Piece(path, TITLE, level=1)] if path else []
    if _is_table(value):
        rows = []
        for index, item in enumerate(value):
            text = _value_text(item)
            parts = [text] if text is not None else _inline(item, "", _deeper(depth, name), name)
            if any(parts):
                rows.append(Piece(f"[{index}] " + "; ".join(p for p in parts if p), ROW))
        out.extend([*heading, *rows] if rows else [])
        return
    lines: list[str] = []
    nested: list[tuple[str | int, Any]] = []
    for key, item in _members(value):
        text = _value_text(item)
        if text is None:
            nested.append((key, item))
        elif text:
            lines.append(f"{_label('', key)}: {text}")
    if lines:
        out.extend([*heading, *(Piece(line, TEXT) for line in lines)])
    for key, item in nested:
        _flatten(item, _label(path, key), _deeper(depth, name), name, out)


def flatten_json(value: Any, name: str) -> list[Piece]:
    """Pieces of one parsed JSON value (see the module docstring)."""
    if _is_scalar(value):
        text = _scalar(value)
        return [Piece(text, TEXT)] if text else []
    out: list[Piece] = []
    _flatten(value, "", 0, name, out)
    return out


def _title(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("title", "name"):
            if isinstance(value.get(key), str) and value[key].strip():
                return _clean(value[key])[:MAX_FIELD_CHARS]
    return None


def partition_json_text(text: str, name: str) -> Partitioned:
    """A JSON file, flattened (a records file too, when it reaches a parser)."""
    value = load_json(text, name)
    return Partitioned(flatten_json(value, name), _title(value), headings_are_titles=False)


def partition_jsonl_text(text: str, name: str) -> Partitioned:
    """JSON Lines: one row piece per line, `Line N: key: value; ...`."""
    pieces: list[Piece] = []
    lines = nonblank_lines(text)
    for number, line in lines:
        value = load_json(line, name, line=number)
        text_ = _value_text(value)
        parts = [text_] if text_ is not None else _inline(value, "", 0, name)
        if any(parts):
            pieces.append(Piece(f"Line {number}: " + "; ".join(p for p in parts if p), ROW))
    return Partitioned(pieces, headings_are_titles=False, metadata={"line_count": len(lines)})
