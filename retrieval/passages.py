"""A retrieved passage: what answers, citations and answerability are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with everything a citation needs (offsets into the source text)."""

    chunk_id: str
    document_id: str | None
    knowledge_base_id: str | None
    title: str
    source: str
    page_number: int | None
    char_start: int
    char_end: int
    text: str
    score: float
    similarity: float
    extra: dict[str, Any] = field(default_factory=dict)  # meeting_id, speaker, timestamp


__all__ = ["Passage"]
