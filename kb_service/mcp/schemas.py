"""Inputs and outputs of the MCP tools, and the text each output renders to.

Outputs are the tools' structured content (their JSON Schema is each tool's output
schema); `render()` is the text content beside it, for models that read text only.
Every passage names where it is: `char_start`/`char_end` index into its source's
extracted text (a document's, or a meeting's transcript) and `url` links there.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ToolOutput(BaseModel):
    """A tool's structured result; `render()` is its text for the model."""

    def render(self) -> str:
        raise NotImplementedError


class SearchScope(BaseModel):
    """Narrows a search; without it, everything the key's organization may see."""

    model_config = ConfigDict(extra="forbid")

    knowledge_base_ids: list[str] | None = Field(
        default=None, max_length=100, description="only these knowledge bases (kb_...)"
    )
    project_ids: list[str] | None = Field(
        default=None,
        max_length=100,
        description="every knowledge base and meeting of these projects (prj_...)",
    )
    include_meetings: bool = Field(default=True, description="search meeting transcripts too")


class SourceSpan(BaseModel):
    """A span of a document or meeting, with everything needed to cite and open it."""

    title: str
    url: str = Field(description="the web console's page of the span (#span=START-END)")
    text: str
    source: str = Field(description="file name, URL or meeting")
    source_type: str
    knowledge_base_id: str | None = None
    document_id: str | None = None
    chunk_id: str | None = None
    page_number: int | None = None
    char_start: int
    char_end: int
    meeting_id: str | None = None
    speaker: str | None = None
    timestamp: float | None = Field(default=None, description="seconds into the meeting")

    def where(self) -> str:
        """Where the span is, in words: page and characters, or speaker and time."""
        parts = [self.source]
        if self.page_number is not None:
            parts.append(f"page {self.page_number}")
        if self.speaker is not None:
            when = f" at {clock(self.timestamp)}" if self.timestamp is not None else ""
            parts.append(f"{self.speaker}{when}")
        parts.append(f"characters {self.char_start}-{self.char_end}")
        return ", ".join(parts)


class SearchHit(SourceSpan):
    id: str = Field(description="the passage's id for `fetch`")
    score: float
    section: list[str] = Field(default_factory=list, description="heading path")


class SearchResults(ToolOutput):
    query: str
    results: list[SearchHit]

    def render(self) -> str:
        if not self.results:
            return f"No passages found for {self.query!r}."
        lines = [f"{len(self.results)} passages for {self.query!r}:"]
        for n, hit in enumerate(self.results, start=1):
            lines += [
                "",
                f"[{n}] {hit.title} ({hit.where()})",
                f"id: {hit.id}  url: {hit.url}",
                hit.text,
            ]
        return "\n".join(lines)


class Citation(SourceSpan):
    index: int = Field(description="the [n] marker in the answer")
    id: str = Field(description="id of the cited passage, for `fetch`")
    score: float


class CitedAnswer(ToolOutput):
    question: str
    answer: str = Field(description="every claim carries [n] markers that resolve to citations")
    answerer: str = Field(description="extractive, or generative when an LLM is configured")
    found: bool = Field(description="false: the knowledge does not answer this (no citations)")
    confidence: float = Field(ge=0, le=1, description="how sure `found` is; 0.5 at the threshold")
    reason: str | None = Field(default=None, description="why nothing was found")
    citations: list[Citation]
    notice: str | None = None

    def render(self) -> str:
        lines = [self.answer if self.found else f"{self.answer} {self.reason or ''}".strip()]
        if self.notice:
            lines += ["", f"Note: {self.notice}"]
        if self.citations:
            lines += ["", "Sources:"]
            for c in self.citations:
                lines.append(f"[{c.index}] {c.title} ({c.where()}) id: {c.id} url: {c.url}")
                lines.append(f'    "{" ".join(c.text.split())}"')
        return "\n".join(lines)


class Segment(BaseModel):
    speaker: str
    timestamp: float
    char_start: int
    char_end: int


class FetchedPassage(SourceSpan, ToolOutput):
    id: str
    kind: Literal["chunk", "document", "meeting"]
    truncated: bool = Field(description="the text was cut; fetch a span id to read on")
    section: list[str] = Field(default_factory=list)
    segments: list[Segment] = Field(
        default_factory=list, description="meetings: each segment's speaker, time and span"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    def render(self) -> str:
        head = f"{self.title} ({self.where()})\nid: {self.id}  url: {self.url}"
        if self.truncated:
            head += f"\n(cut at character {self.char_end}; fetch a later span to read on)"
        if self.segments:
            body = "\n".join(
                f"[{clock(s.timestamp)}] {s.speaker}: {self.text_of(s)}" for s in self.segments
            )
        else:
            body = self.text
        return f"{head}\n\n{body}"

    def text_of(self, segment: Segment) -> str:
        return self.text[segment.char_start - self.char_start : segment.char_end - self.char_start]


class KnowledgeBaseItem(BaseModel):
    id: str
    name: str
    description: str | None
    project_id: str | None
    document_count: int
    chunk_count: int
    created_at: str


class ProjectItem(BaseModel):
    id: str
    name: str
    description: str | None
    knowledge_base_count: int
    meeting_count: int
    created_at: str


class MeetingItem(BaseModel):
    id: str
    title: str
    project_id: str | None
    platform: str | None
    status: str
    started_at: str | None
    segment_count: int
    participants: list[str]
    url: str = Field(description="the web console's page of the meeting's transcript")


class KnowledgeBaseList(ToolOutput):
    items: list[KnowledgeBaseItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")

    def render(self) -> str:
        lines = [
            f"{kb.id}  {kb.name}  ({kb.document_count} documents)"
            + (f": {kb.description}" if kb.description else "")
            for kb in self.items
        ]
        return _listing("knowledge bases", lines, self.next_cursor)


class ProjectList(ToolOutput):
    items: list[ProjectItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")

    def render(self) -> str:
        lines = [
            f"{p.id}  {p.name}  ({p.knowledge_base_count} knowledge bases, "
            f"{p.meeting_count} meetings)" + (f": {p.description}" if p.description else "")
            for p in self.items
        ]
        return _listing("projects", lines, self.next_cursor)


class MeetingList(ToolOutput):
    items: list[MeetingItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")

    def render(self) -> str:
        lines = [
            f"{m.id}  {m.title}  ({m.status}, {m.segment_count} segments"
            + (f", {m.started_at}" if m.started_at else "")
            + ")"
            for m in self.items
        ]
        return _listing("meetings", lines, self.next_cursor)


def _listing(what: str, lines: list[str], next_cursor: str | None) -> str:
    if not lines:
        return f"No {what}."
    text = "\n".join(lines)
    return text + (f"\n(more: cursor={next_cursor})" if next_cursor else "")


def clock(seconds: float | None) -> str:
    """Seconds into a meeting as m:ss (h:mm:ss past an hour)."""
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
