"""The shapes a source takes on its way through the ingestion pipeline.

A `SourceFile` (bytes + name) or a JSON text record is extracted into an
`ExtractedDocument`: one normalised text plus `TextBlock`s that say which character
span came from which page and under which heading path. The chunker turns that into
`ChunkDraft`s whose `char_start`/`char_end` index into `ExtractedDocument.text`, so a
citation can point back at the exact passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceFile:
    """An uploaded file: its (already sanitised) filename and raw bytes."""

    filename: str
    content: bytes
    media_type: str | None = None


@dataclass(frozen=True)
class TextBlock:
    """One extracted element (title, paragraph, list item, table) of a document."""

    char_start: int
    char_end: int
    kind: str  # "title" | "text" | "list_item" | "table" | "row" (of a table)
    page_number: int | None = None
    section: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtractedDocument:
    """Normalised text of a document and where each span of it came from."""

    text: str
    blocks: list[TextBlock]
    source_type: str  # a format of `ingest.formats` ("pdf", "csv", "code", ...) or "json"
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before embedding: `text == document.text[char_start:char_end]`.

    `section` is the heading path (for a transcript chunk: the speaker) and `title` the
    document's title; both are carried into `embedding_text`, not into the span.
    """

    ordinal: int
    text: str
    char_start: int
    char_end: int
    token_count: int
    page_number: int | None = None
    section: tuple[str, ...] = ()
    title: str | None = None

    @property
    def embedding_text(self) -> str:
        """What the embedder and the sparse encoder see: title and heading path, the span."""
        return context_prefix(self.title, self.section) + self.text


def context_prefix(title: str | None, section: tuple[str, ...]) -> str:
    """`Title > Heading > Subheading` and a line break; the title only when it is not
    already the first heading. Empty when there is neither."""
    path = list(section)
    title = " ".join(title.split()) if title else ""
    if title and (not path or path[0].strip().casefold() != title.casefold()):
        path.insert(0, title)
    return " > ".join(path) + "\n" if path else ""
