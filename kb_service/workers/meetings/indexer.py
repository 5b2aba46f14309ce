"""The meeting indexer: makes live segments searchable and indexes ended meetings.

Two lanes (threads of a `PollingWorker`, started by `serve` and `worker`), both driven by
SQL, so nothing is lost on a restart: work is whatever the meetings table says.
- live: meetings with `pending_segments`; their new segments are laid out after the
  already-indexed ones and written as points of the meeting's current version (a late,
  out-of-order segment re-lays out the segments after it, whose points are rewritten).
  While segments arrive slowly (at most `live_embed_max_rate` per second over the last
  10 s: a few meetings at once) their points get both vectors at once. Faster, they
  carry the sparse (BM25) vector only: no model call, so a segment is searchable by
  its words within a poll of arriving however many meetings talk at once, and the
  model leaves the CPU to the callbacks. (Embedding every segment could not keep up:
  on 2 cores the model reads ~70 sentences/s while serving the callbacks; at 50
  segments/s the backlog and the time-to-searchable grew without bound, and callback
  p95 tripled.) Hybrid search finds lexical points through its sparse half; the
  retriever embeds such hits for their similarity (`Retriever`).
- final: `ended` meetings; the whole transcript is re-chunked by speaker turns,
  embedded (dense and sparse) and written at `index_version + 1`; then one transaction
  flips the version, marks the meeting `indexed` and records `meeting.indexed` in the
  outbox; then the points of every other version are deleted (`stale_points` marks a
  crash in between, swept later).
A meeting is claimed under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so
several processes share the work; a failing final index is retried with backoff and
marked `failed` after MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ingest.transcript_chunking import TranscriptChunker
from ingest.transcripts import SegmentSpan, layout
from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.meetings import Meeting, MeetingSegment
from kb_service.services.meetings import load_segments, meeting_writes
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.meetings import leases
from kb_service.workers.meetings.points import (
    MeetingChunk,
    chunk_origin,
    embed,
    final_chunks,
    live_chunks,
    meeting_points,
)
from retrieval.index import PointFilter, VectorIndex
from retrieval.indexing import ChunkEmbedder, ChunkOrigin

log = logging.getLogger(__name__)

EMBED_BATCH = 128
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
    new_segments: int


class MeetingIndexer(PollingWorker):
    """Background indexing of meetings (see the module docstring)."""

    def __init__(
        self,
        *,
        db: Database,
        chunker: TranscriptChunker,
        chunk_embedder: ChunkEmbedder,
        index: VectorIndex,
        poll_seconds: float = 0.2,
        lease_seconds: float = 60.0,
        live_embed_max_rate: float = 5.0,
    ) -> None:
        super().__init__(
            lanes=[Lane.new(f"kb-meetings-{kind}", kind) for kind in leases.WORK],
            poll_seconds=poll_seconds,
        )
        self.db = db
        self.chunker = chunker
        self.chunk_embedder = chunk_embedder
        self.index = index
        self.lease = timedelta(seconds=lease_seconds)
        self.live_embed_max_rate = live_embed_max_rate
        self._live_arrivals: deque[tuple[float, int]] = deque()  # (when, segments)
        self._owners = {lane.kind: lane.owner for lane in self.lanes}

    def work(self, lane: Lane) -> bool:
        return self.run_once(lane.kind)

    def run_once(self, kind: str) -> bool:
        """Claim and index one batch of meetings of `kind`; False when there was none."""
        claimed = leases.claim(
            self.db,
            kind=kind,
            owner=self._owner(kind),
            lease=self.lease,
            limit=LIVE_BATCH_MEETINGS if kind == "live" else 1,
        )
        if kind == "live":
            self._index_live(claimed)
        for meeting_id in claimed if kind == "final" else ():
            try:
                self._index_final(meeting_id)
            except Exception as exc:
                log.exception("indexing meeting %s failed", meeting_id)
                leases.record_failure(self.db, meeting_id, exc, final=True)
        return bool(claimed)

    # -- live segments ----------------------------------------------------------------

    def _index_live(self, meeting_ids: list[str]) -> None:
        """New segments of many meetings, in one model call (or lexical only: see above)."""
        works: list[_LiveWork] = []
        for meeting_id in meeting_ids:
            try:
                work = self._prepare_live(meeting_id)
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
        dense = self._live_rate(sum(w.new_segments for w in works)) <= self.live_embed_max_rate
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
        with meeting_writes(self.db), self.db.session() as session:  # one short write
            for w in works:
                held = leases.held(session, self.db, w.meeting_id, self._owner("live"))
                if held is None:
                    continue  # the lease was lost; its new owner redoes this (same ids)
                leases.store_offsets(session, w.meeting_id, w.spans)
                held.transcript_chars = max(held.transcript_chars, w.spans[-1].char_end)
                leases.release(held)
        log.debug(
            "live pass: %d meetings, %d points; %s %.0f ms, upsert+commit %.0f ms",
            len(works),
            "embed" if dense else "sparse",
            len(points),
            (encoded - started) * 1000,
            (time.perf_counter() - encoded) * 1000,
        )

    def _live_rate(self, segments: int) -> float:
        """New segments per second over the last 10 s, these included.

        Only new ones count: a late segment re-lays out (and rewrites) the indexed ones
        after it, which is no sign of load.
        """
        now = time.monotonic()
        arrivals = self._live_arrivals
        arrivals.append((now, segments))
        while arrivals[0][0] < now - LIVE_RATE_WINDOW:
            arrivals.popleft()
        return sum(n for _, n in arrivals) / LIVE_RATE_WINDOW

    def _prepare_live(self, meeting_id: str) -> _LiveWork | None:
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
                new_segments = session.scalar(
                    select(func.count()).where(
                        MeetingSegment.meeting_id == meeting_id,
                        MeetingSegment.indexed.is_(False),
                        MeetingSegment.sequence <= tail[-1].sequence,
                    )
                )
        if first_pending is None:
            with meeting_writes(self.db), self.db.session() as session:
                held = leases.held(session, self.db, meeting_id, self._owner("live"))
                if held is not None:
                    leases.release(held)
            return None
        start, speaker = (int(previous[0] or 0), previous[1]) if previous else (0, None)
        laid = layout(tail, start=start, previous_speaker=speaker)
        pieces = [self.chunker.pieces(s.text, s.speaker) for s in tail]
        chunks = live_chunks(laid.spans, [s.text for s in tail], pieces)
        return _LiveWork(meeting_id, version, origin, laid.spans, chunks, int(new_segments or 0))

    # -- ended meetings ---------------------------------------------------------------

    def _index_final(self, meeting_id: str) -> None:
        with self.db.session() as session:
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None
            if meeting.status != "ended":  # only stale points to sweep
                version = meeting.index_version
                sweep_only = True
            else:
                segments = load_segments(session, meeting_id)
                version, origin = meeting.index_version + 1, chunk_origin(meeting)
                sweep_only = False
        if sweep_only:
            self._sweep(meeting_id, version)
            return
        transcript = layout(segments)
        chunks = final_chunks(self.chunker.run(transcript.text, transcript.spans))
        # Leftovers of an interrupted attempt at this version would outlive the flip.
        self.index.delete(PointFilter.where(meeting_id=meeting_id, version=version))
        for at in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[at : at + EMBED_BATCH]
            vectors = embed(self.chunk_embedder, batch)
            self.index.upsert(
                meeting_points(batch, vectors, offset=0, version=version, origin=origin)
            )
        with meeting_writes(self.db), self.db.session() as session:
            held = leases.held(session, self.db, meeting_id, self._owner("final"))
            if held is None:
                return
            if held.status != "ended" or held.segment_count != len(segments):
                leases.release(held)  # a late segment arrived: index again
                return
            leases.store_offsets(session, meeting_id, transcript.spans)
            held.index_version = version
            held.status = "indexed"
            held.chunk_count = len(chunks)
            held.transcript_chars = len(transcript.text)
            held.indexed_at = utcnow()
            held.error = None
            held.stale_points = True
            record_event(
                session,
                organization_id=held.organization_id,
                type="meeting.indexed",
                data={
                    "meeting_id": held.id,
                    "project_id": held.project_id,
                    "source_id": held.source_id,
                    "external_id": held.external_id,
                    "title": held.title,
                    "version": version,
                    "segment_count": len(segments),
                    "chunk_count": len(chunks),
                    "participants": list(held.participants or []),
                },
            )
            leases.release(held)
        self._sweep(meeting_id, version)

    def _sweep(self, meeting_id: str, version: int) -> None:
        """Delete the points of every version but the live one."""
        self.index.delete(PointFilter.where(meeting_id=meeting_id).and_not("version", version))
        leases.release_final(self.db, meeting_id, self._owner("final"), version)

    def _owner(self, kind: str) -> str:
        return self._owners[kind]
