"""Live meetings: new segments made searchable within a poll of arriving.

The live lane claims meetings with `pending_segments`; their new segments are laid out
after the already-indexed ones and written as points of the meeting's current version
(a late, out-of-order segment re-lays out the segments after it, whose points are
rewritten). While segments arrive slowly (at most `embed_max_rate` per second over the
last 10 s: a few meetings at once) their points get both vectors at once. Faster, they
carry the sparse (BM25) vector only: no model call, so a segment is searchable by its
words within a poll of arriving however many meetings talk at once, and the model
leaves the CPU to the callbacks. (Embedding every segment could not keep up: on 2
cores the model reads ~70 sentences/s while serving the callbacks; at 50 segments/s
the backlog and the time-to-searchable grew without bound, and callback p95
tripled.) Hybrid search finds lexical points through its sparse half; the retriever
embeds such hits for their similarity (`Retriever`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ingest.transcript_chunking import TranscriptChunker
from ingest.transcripts import SegmentSpan, layout
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting, MeetingSegment
from kb_service.observability import meetings as observe
from kb_service.services.meetings import load_segments, meeting_writes
from kb_service.workers.meetings import leases
from kb_service.workers.meetings.points import (
    MeetingChunk,
    chunk_origin,
    embed,
    live_chunks,
    meeting_points,
)
from retrieval.index import VectorIndex
from retrieval.indexing import ChunkEmbedder, ChunkOrigin

log = logging.getLogger(__name__)

LIVE_BATCH_MEETINGS = 32
LIVE_BATCH_SEGMENTS = 512
LIVE_RATE_WINDOW = 10.0  # seconds


@dataclass(frozen=True)
class _LiveWork:
    """New segments of one live meeting, laid out and cut into pieces, to embed."""

    meeting_id: str
    version: int
    origin: ChunkOrigin
    spans: list[SegmentSpan]  # the new segments and the already indexed ones after them
    chunks: list[MeetingChunk]
    arrivals: list[datetime]  # when each new segment was received

    @property
    def new_segments(self) -> int:
        return len(self.arrivals)


class LiveIndexer:
    """Indexes the new segments of the live meetings a claim leased to `owner`."""

    batch = LIVE_BATCH_MEETINGS  # meetings per claim

    def __init__(
        self,
        *,
        db: Database,
        chunker: TranscriptChunker,
        chunk_embedder: ChunkEmbedder,
        index: VectorIndex,
        embed_max_rate: float,
    ) -> None:
        self.db = db
        self.chunker = chunker
        self.chunk_embedder = chunk_embedder
        self.index = index
        self.embed_max_rate = embed_max_rate
        self._arrivals: deque[tuple[float, int]] = deque()  # (when, segments)

    def run(self, meeting_ids: list[str], owner: str) -> None:
        """New segments of many meetings in one model call (or lexical only: see the module)."""
        works: list[_LiveWork] = []
        for meeting_id in meeting_ids:
            try:
                work = self._prepare(meeting_id, owner)
            except Exception as exc:
                log.exception("preparing live segments of %s failed", meeting_id)
                leases.record_failure(self.db, meeting_id, exc, final=False)
                continue
            if work is not None:
                works.append(work)
        if not works:
            return
        started = time.perf_counter()
        chunks = [c for w in works for c in w.chunks]
        dense = self._rate(sum(w.new_segments for w in works)) <= self.embed_max_rate
        try:
            vectors = embed(self.chunk_embedder, chunks, dense=dense)
            offset, points = 0, []
            for w in works:
                points += meeting_points(
                    w.chunks,
                    vectors,
                    offset=offset,
                    version=w.version,
                    origin=w.origin,
                )
                offset += len(w.chunks)
            encoded = time.perf_counter()
            self.index.upsert(points)
        except Exception as exc:
            log.exception("indexing live segments failed")
            for w in works:
                leases.record_failure(self.db, w.meeting_id, exc, final=False)
            return
        searchable: list[datetime] = []
        with meeting_writes(self.db), self.db.session() as session:  # one short write
            for w in works:
                held = leases.held(session, self.db, w.meeting_id, owner)
                if held is None:
                    continue  # the lease was lost; its new owner redoes this (same ids)
                leases.store_offsets(session, w.meeting_id, w.spans)
                held.transcript_chars = max(held.transcript_chars, w.spans[-1].char_end)
                leases.release(held)
                searchable += w.arrivals
        observe.searchable("live", searchable)
        log.debug(
            "live pass: %d meetings, %d points; %s %.0f ms, upsert+commit %.0f ms",
            len(works),
            "embed" if dense else "sparse",
            len(points),
            (encoded - started) * 1000,
            (time.perf_counter() - encoded) * 1000,
        )

    def _rate(self, segments: int) -> float:
        """New segments per second over the last 10 s, these included.

        Only new ones count: a late segment re-lays out (and rewrites) the indexed ones
        after it, which is no sign of load.
        """
        now = time.monotonic()
        arrivals = self._arrivals
        arrivals.append((now, segments))
        while arrivals[0][0] < now - LIVE_RATE_WINDOW:
            arrivals.popleft()
        return sum(n for _, n in arrivals) / LIVE_RATE_WINDOW

    def _prepare(self, meeting_id: str, owner: str) -> _LiveWork | None:
        with self.db.session() as session:
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None
            first_pending = session.scalar(
                select(func.min(MeetingSegment.sequence)).where(
                    MeetingSegment.meeting_id == meeting_id, MeetingSegment.indexed.is_(False)
                )
            )
            if first_pending is not None:
                previous = session.execute(
                    select(MeetingSegment.char_end, MeetingSegment.speaker)
                    .where(
                        MeetingSegment.meeting_id == meeting_id,
                        MeetingSegment.sequence < first_pending,
                    )
                    .order_by(MeetingSegment.sequence.desc())
                    .limit(1)
                ).first()
                tail = load_segments(
                    session, meeting_id, from_sequence=first_pending, limit=LIVE_BATCH_SEGMENTS
                )
                version, origin = meeting.index_version, chunk_origin(meeting)
                title = meeting.title
                arrivals = session.scalars(
                    select(MeetingSegment.received_at).where(
                        MeetingSegment.meeting_id == meeting_id,
                        MeetingSegment.indexed.is_(False),
                        MeetingSegment.sequence <= tail[-1].sequence,
                    )
                )
        if first_pending is None:
            with meeting_writes(self.db), self.db.session() as session:
                held = leases.held(session, self.db, meeting_id, owner)
                if held is not None:
                    leases.release(held)
            return None
        start, speaker = (int(previous[0] or 0), previous[1]) if previous else (0, None)
        laid = layout(tail, start=start, previous_speaker=speaker)
        pieces = [self.chunker.pieces(s.text, s.speaker) for s in tail]
        chunks = live_chunks(laid.spans, [s.text for s in tail], pieces, title)
        return _LiveWork(meeting_id, version, origin, laid.spans, chunks, list(arrivals))
