"""Turn a sequence of extracted pieces into one normalised text with `TextBlock`s.

Pieces are joined with a blank line ("\\n\\n"). Inside a piece, text is NFC-normalised,
invisible characters are removed and whitespace is collapsed (line structure is kept
only for code). Each piece becomes a `TextBlock` whose span satisfies
`text[block.char_start:block.char_end] == normalised piece text`, with the heading path
(`section`) maintained as a stack of titles by level.

Plain text (and JSON text records) is split into pieces here too, without unstructured:
paragraphs are separated by blank lines, bullet lines become list items, and a short
unpunctuated first line of a paragraph is taken as a heading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.documents import TextBlock

SEPARATOR = "\n\n"
TITLE, TEXT, LIST_ITEM, TABLE, ROW = "title", "text", "list_item", "table", "row"

# Soft hyphen, zero-width space, word joiner, BOM: invisible and harmful to matching.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u2043\u2219]|\(?\d{1,3}[.)]|[a-z][.)])\s+")


@dataclass(frozen=True)
class Piece:
    """One element before normalisation; `level` (1 = top) is set for titles only."""

    text: str
    kind: str
    page_number: int | None = None
    level: int | None = None
    keep_lines: bool = False


def normalise_text(raw: str, *, keep_lines: bool = False) -> str:
    """NFC, drop invisible and control characters, collapse whitespace.

    With `keep_lines`, line breaks survive (trailing spaces and blank lines do not);
    otherwise all whitespace, line breaks included, becomes single spaces.
    """
    text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if keep_lines:
        text = text.expandtabs(4)
    text = "".join(" " if unicodedata.category(ch) == "Cc" and ch != "\n" else ch for ch in text)
    if not keep_lines:
        return " ".join(text.split())
    lines = (line.rstrip() for line in text.split("\n"))
    kept = [line.replace("\u00a0", " ") for line in lines if line.strip()]
    common = min((len(line) - len(line.lstrip()) for line in kept), default=0)
    return "\n".join(line[common:] for line in kept)


def assemble(pieces: Iterable[Piece]) -> tuple[str, list[TextBlock]]:
    """Join pieces into one text and describe each span with a TextBlock."""
    parts: list[str] = []
    blocks: list[TextBlock] = []
    headings: list[tuple[int, str]] = []
    pos = 0
    for piece in pieces:
        text = normalise_text(piece.text, keep_lines=piece.keep_lines)
        if not text:
            continue
        if parts:
            parts.append(SEPARATOR)
            pos += len(SEPARATOR)
        if piece.kind == TITLE:
            level = piece.level or 1
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
        start, pos = pos, pos + len(text)
        parts.append(text)
        blocks.append(
            TextBlock(
                char_start=start,
                char_end=pos,
                kind=piece.kind,
                page_number=piece.page_number,
                section=tuple(title for _, title in headings),
            )
        )
    return "".join(parts), blocks


def _is_heading_line(line: str, next_line: str | None) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 60 or _BULLET.match(line):
        return False
    if stripped[-1] in ".,;:!?" or not (stripped[0].isupper() or stripped[0].isdigit()):
        return False
    if not any(ch.isalpha() for ch in stripped):
        return False
    # A wrapped sentence continues in lower case on the next line.
    return not (next_line and next_line.strip()[:1].islower())


def plain_text_pieces(text: str) -> list[Piece]:
    """Split plain text into heading, paragraph and list-item pieces."""
    pieces: list[Piece] = []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    for paragraph in re.split(r"\n[ \t\f\v]*\n", normalised):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        if _is_heading_line(lines[0], lines[1] if len(lines) > 1 else None):
            pieces.append(Piece(lines[0], TITLE, level=1))
            lines = lines[1:]
        buffer: list[str] = []
        in_item = False
        for line in lines:
            if _BULLET.match(line):
                if buffer:
                    pieces.append(Piece(" ".join(buffer), TEXT))
                    buffer = []
                pieces.append(Piece(_BULLET.sub("", line, count=1), LIST_ITEM))
                in_item = True
            elif in_item and line[:1].isspace():
                # An indented continuation of the previous bullet.
                last = pieces.pop()
                pieces.append(Piece(f"{last.text} {line}", LIST_ITEM))
            else:
                buffer.append(line)
                in_item = False
        if buffer:
            pieces.append(Piece(" ".join(buffer), TEXT))
    return pieces
