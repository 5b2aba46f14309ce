"""Source code and configuration files as text, in pieces that end where code does.

A file is cut into pieces at blank lines followed by a line at column 0 (a blank line
inside an indented body does not cut, and is dropped from the text) and before every
top-level definition (`def`, `class`, `function`, `func`, `fn`, `impl`, `interface`,
SQL `CREATE`, a YAML key that opens a block, a TOML or INI `[table]`, ...), so the
chunker, which packs whole pieces up to its budget and prefers to cut between them,
cuts at those boundaries. Comments, decorators and annotations directly above a definition stay
with it. Lines keep their breaks and indentation (`Piece.keep_lines`), so every piece
starts at column 0 and reads as it does in the file.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from ingest.normalise import TEXT, Piece
from ingest.partitioners import Partitioned

_DEFINITION = re.compile(
    r"^(?:(?:export|public|private|protected|static|async|abstract|final|pub|default)\s+)*"
    r"(?:(?:def|class|function|func|fn|impl|struct|enum|trait|interface|module|"
    r"CREATE|ALTER)(?:\s|\(|$)|\[[^\]]+\]\s*$|[A-Za-z_][\w.-]*:\s*$)",
    re.IGNORECASE,
)
_ATTACHED = re.compile(r"^\s*(?:#|//|/\*|\*|--|@|;|<!--)")


def _starts_definition(line: str) -> bool:
    return bool(line) and not line[0].isspace() and bool(_DEFINITION.match(line))


def code_pieces(text: str) -> list[Piece]:
    """Pieces of a code or config file (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    pieces: list[Piece] = []
    current: list[str] = []

    def flush(upto: int | None = None) -> None:
        nonlocal current
        keep, current = (current, []) if upto is None else (current[:upto], current[upto:])
        if any(line.strip() for line in keep):
            pieces.append(Piece("\n".join(keep), TEXT, keep_lines=True))

    gap = False
    for line in lines:
        if not line.strip():
            gap = True
            continue
        if gap and not line[0].isspace():
            flush()
        gap = False
        if current and _starts_definition(line):
            # leading comments/decorators directly above the definition go with it
            attached = len(current)
            while attached > 0 and _ATTACHED.match(current[attached - 1]):
                attached -= 1
            if attached > 0:
                flush(attached)
        current.append(line)
    flush()
    return pieces


def partition_code_text(text: str, name: str) -> Partitioned:
    """A source or configuration file; its language is its extension."""
    language = PurePath(name).suffix.lower().lstrip(".") or "text"
    return Partitioned(code_pieces(text), metadata={"language": language})
