"""Vector points of meetings: live segment pieces and re-chunked transcript chunks.

Every meeting point carries `meeting_id`, `project_id`, `source_type: "meeting"`, its
`version` (searches show only the meeting's live `index_version`), the text span
(`char_start/char_end` into the meeting's transcript), `speaker`/`timestamp` of its
first segment, `speakers`, `first_timestamp`/`last_timestamp`, and `segments`: the
spans of the segments inside it, so a citation of any sentence resolves to the
speaker and timestamp of that sentence. Ids are deterministic (a retry overwrites).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest.documents import ChunkDraft
from ingest.pipeline import EmbeddedChunks, IngestPipeline, chunk_id, point_id
from ingest.transcript_chunking import TranscriptChunk
from ingest.transcripts import SegmentSpan
from kb_service.db.meetings import Meeting
from retrieval.index import IndexPoint

# Live pieces of segment `sequence` use ordinals sequence * PIECES_PER_SEGMENT + i; a
# segment (at most MAX_SEGMENT_CHARS characters) splits into far fewer pieces.
PIECES_PER_SEGMENT = 1000


@dataclass(frozen=True)
class MeetingChunk:
    """One point to write: the draft to embed and where its segments are."""

    draft: ChunkDraft
    segments: list[SegmentSpan]


def live_chunks(
    spans: Sequence[SegmentSpan], texts: Sequence[str], pieces: Sequence[list[tuple[int, int]]]
) -> list[MeetingChunk]:
    """Points for live segments: each segment's pieces (spans relative to its text)."""
    result = []
    for span, text, cuts in zip(spans, texts, pieces, strict=True):
        for i, (start, end) in enumerate(cuts):
            draft = ChunkDraft(
                ordinal=span.sequence * PIECES_PER_SEGMENT + i,
                text=text[start:end],
                char_start=span.char_start + start,
                char_end=span.char_start + end,
                token_count=0,
                section=(span.speaker,),
            )
            clipped = SegmentSpan(
                span.sequence,
                span.speaker,
                span.timestamp,
                draft.char_start,
                draft.char_end,
                draft.char_start,
            )
            result.append(MeetingChunk(draft, [clipped]))
    return result


def final_chunks(chunks: Sequence[TranscriptChunk]) -> list[MeetingChunk]:
    result = []
    for chunk in chunks:
        clipped = [
            SegmentSpan(
                s.sequence,
                s.speaker,
                s.timestamp,
                max(s.char_start, chunk.char_start),
                min(s.char_end, chunk.char_end),
                s.line_start,
            )
            for s in chunk.segments
        ]
        result.append(MeetingChunk(chunk.draft(), clipped))
    return result


def embed(
    pipeline: IngestPipeline, chunks: Sequence[MeetingChunk], *, dense: bool = True
) -> EmbeddedChunks:
    """Vectors of `chunks` in one model call (callers batch meetings).

    With `dense=False`: sparse (BM25) vectors only, no model call.
    """
    return pipeline.embed([c.draft for c in chunks], dense=dense)


def meeting_points(
    chunks: Sequence[MeetingChunk],
    vectors: EmbeddedChunks,
    *,
    offset: int,
    meeting_id: str,
    version: int,
    base: dict[str, Any],
) -> list[IndexPoint]:
    """Points of `chunks`, whose vectors start at row `offset` of `vectors`."""
    points = []
    for i, chunk in enumerate(chunks, start=offset):
        draft, segments = chunk.draft, chunk.segments
        pid = point_id(meeting_id, version, draft.ordinal)
        first = segments[0]
        payload = {
            **base,
            "source_type": "meeting",
            "meeting_id": meeting_id,
            "knowledge_base_id": None,
            "document_id": None,
            "chunk_id": chunk_id(pid),
            "version": version,
            "ordinal": draft.ordinal,
            "text": draft.text,
            "char_start": draft.char_start,
            "char_end": draft.char_end,
            "page_number": None,
            "section": [],
            "speaker": first.speaker,
            "timestamp": first.timestamp,
            "speakers": list(dict.fromkeys(s.speaker for s in segments)),
            "first_timestamp": min(s.timestamp for s in segments),
            "last_timestamp": max(s.timestamp for s in segments),
            "segments": [s.to_payload() for s in segments],
        }
        if vectors.dense is None:  # what the model would have read, for a later reader
            payload["embedding_text"] = draft.embedding_text
        points.append(
            IndexPoint(
                id=pid,
                dense=vectors.dense_row(i),
                sparse=vectors.sparse[i],
                payload=payload,
            )
        )
    return points


def base_payload(meeting: Meeting) -> dict[str, object]:
    """The payload fields every point of `meeting` shares."""
    moment = meeting.started_at or meeting.created_at
    return {
        "organization_id": meeting.organization_id,
        "project_id": meeting.project_id,
        "created_at": moment.timestamp(),
    }
