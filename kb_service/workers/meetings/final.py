"""Ended meetings: the whole transcript indexed at a new version, then `meeting.indexed`.

The final lane claims `ended` meetings (and meetings with `stale_points`): the
transcript is re-chunked by speaker turns, embedded (dense and sparse) and written at
`index_version + 1`; then one transaction flips the version, marks the meeting
`indexed` and records `meeting.indexed` in the outbox; then the points of every other
version are deleted (`stale_points` marks a crash in between, swept later). A failing
index is retried with backoff and the meeting marked `failed` after
`leases.MAX_ATTEMPTS`.
"""

from __future__ import annotations

import logging

from ingest.transcript_chunking import TranscriptChunker
from ingest.transcripts import layout
from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.meetings import Meeting
from kb_service.observability import meetings as observe
from kb_service.services.meetings import load_segments, meeting_writes
from kb_service.statuses import MeetingStatus
from kb_service.workers.meetings import leases
from kb_service.workers.meetings.points import chunk_origin, embed, final_chunks, meeting_points
from retrieval.index import PointFilter, VectorIndex
from retrieval.indexing import ChunkEmbedder

log = logging.getLogger(__name__)

EMBED_BATCH = 128


class FinalIndexer:
    """Indexes the ended meetings a claim leased to `owner`, one at a time."""

    batch = 1  # meetings per claim

    def __init__(
        self,
        *,
        db: Database,
        chunker: TranscriptChunker,
        chunk_embedder: ChunkEmbedder,
        index: VectorIndex,
    ) -> None:
        self.db = db
        self.chunker = chunker
        self.chunk_embedder = chunk_embedder
        self.index = index

    def run(self, meeting_ids: list[str], owner: str) -> None:
        """Index each meeting; one that fails backs off (`leases.record_failure`)."""
        for meeting_id in meeting_ids:
            try:
                self._index_one(meeting_id, owner)
            except Exception as exc:
                log.exception("indexing meeting %s failed", meeting_id)
                leases.record_failure(self.db, meeting_id, exc, final=True)

    def _index_one(self, meeting_id: str, owner: str) -> None:
        with self.db.session() as session:
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None
            if meeting.status != MeetingStatus.ENDED:  # only stale points to sweep
                version = meeting.index_version
                sweep_only = True
            else:
                segments = load_segments(session, meeting_id)
                version, origin = meeting.index_version + 1, chunk_origin(meeting)
                title = meeting.title
                sweep_only = False
        if sweep_only:
            self._sweep(meeting_id, version, owner)
            return
        transcript = layout(segments)
        chunks = final_chunks(self.chunker.run(transcript.text, transcript.spans), title)
        # Leftovers of an interrupted attempt at this version would outlive the flip.
        self.index.delete(PointFilter.where(meeting_id=meeting_id, version=version))
        for at in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[at : at + EMBED_BATCH]
            vectors = embed(self.chunk_embedder, batch)
            self.index.upsert(
                meeting_points(batch, vectors, offset=0, version=version, origin=origin)
            )
        with meeting_writes(self.db), self.db.session() as session:
            held = leases.held(session, self.db, meeting_id, owner)
            if held is None:
                return
            if held.status != MeetingStatus.ENDED or held.segment_count != len(segments):
                leases.release(held)  # a late segment arrived: index again
                return
            leases.store_offsets(session, meeting_id, transcript.spans)
            held.index_version = version
            held.status = MeetingStatus.INDEXED
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
            ended_at = held.ended_at
        observe.searchable("final", [ended_at] if ended_at else [])
        self._sweep(meeting_id, version, owner)

    def _sweep(self, meeting_id: str, version: int, owner: str) -> None:
        """Delete the points of every version but the live one."""
        self.index.delete(PointFilter.where(meeting_id=meeting_id).and_not("version", version))
        leases.release_final(self.db, meeting_id, owner, version)
