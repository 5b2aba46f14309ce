"""Vector points of meetings: live segment pieces and re-chunked transcript chunks.

A meeting point is a chunk of the meeting's transcript (`char_start/char_end` into it)
with the spans of the segments inside it, so a citation of any sentence resolves to
the speaker and timestamp of that sentence; `retrieval.indexing` builds its payload.
Searches show only the meeting's live `index_version`. Ids are deterministic (a retry
overwrites).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.documents import ChunkDraft
from ingest.transcript_chunking import TranscriptChunk
from ingest.transcripts import SegmentSpan
from kb_service.db.meetings import Meeting
from retrieval.index import IndexPoint
from retrieval.indexing import ChunkEmbedder, ChunkOrigin, EmbeddedChunks, build_points

# Live pieces of segment `sequence` use ordinals sequence * PIECES_PER_SEGMENT + i; a
# segment (at most MAX_SEGMENT_CHARS characters) splits into far fewer pieces.
PIECES_PER_SEGMENT = 1000


@dataclass(frozen=True)
class MeetingChunk:
    """One point to write: the draft to embed and where its segments are."""

    draft: ChunkDraft
    segments: list[SegmentSpan]


def live_chunks(
    spans: Sequence[SegmentSpan],
    texts: Sequence[str],
    pieces: Sequence[list[tuple[int, int]]],
    title: str | None,
) -> list[MeetingChunk]:
    """Points for live segments: each segment's pieces (spans relative to its text).

    The embedded text of each piece is the meeting `title` and the speaker, then the piece.
    """
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
                title=title,
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


def final_chunks(chunks: Sequence[TranscriptChunk], title: str | None) -> list[MeetingChunk]:
    """Points for a transcript's chunks; the embedded text leads with the meeting `title`."""
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
        result.append(MeetingChunk(replace(chunk.draft(), title=title), clipped))
    return result


def embed(
    chunk_embedder: ChunkEmbedder, chunks: Sequence[MeetingChunk], *, dense: bool = True
) -> EmbeddedChunks:
    """Vectors of `chunks` in one model call (callers batch meetings).

    With `dense=False`: sparse (BM25) vectors only, no model call.
    """
    return chunk_embedder.embed([c.draft for c in chunks], dense=dense)


def meeting_points(
    chunks: Sequence[MeetingChunk],
    vectors: EmbeddedChunks,
    *,
    offset: int,
    version: int,
    origin: ChunkOrigin,
) -> list[IndexPoint]:
    """Points of `chunks`, whose vectors start at row `offset` of `vectors`."""
    return build_points(
        origin,
        [c.draft for c in chunks],
        vectors,
        version=version,
        offset=offset,
        segments=[c.segments for c in chunks],
    )


def chunk_origin(meeting: Meeting) -> ChunkOrigin:
    """What every point of `meeting` shares."""
    moment = meeting.started_at or meeting.created_at
    return ChunkOrigin.meeting(
        organization_id=meeting.organization_id,
        project_id=meeting.project_id,
        meeting_id=meeting.id,
        created_at=moment.timestamp(),
    )
