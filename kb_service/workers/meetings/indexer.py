"""The meeting indexer: makes live segments searchable and indexes ended meetings.

Two lanes of a `PollingWorker` per process (started by `serve` and `worker`), both
driven by SQL, so nothing is lost on a restart: work is whatever the meetings table
says.
- live (`live.py`): the new segments of live meetings, searchable within a poll of
  arriving, embedded or lexical only depending on the arrival rate;
- final (`final.py`): an ended meeting's whole transcript, re-chunked by speaker
  turns, indexed at a new version, then `meeting.indexed`.
A meeting is claimed under a lease (`leases.py`, `FOR UPDATE SKIP LOCKED` on
PostgreSQL), so several processes share the work.
"""

from __future__ import annotations

from datetime import timedelta

from ingest.transcript_chunking import TranscriptChunker
from kb_service.db.database import Database
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.meetings import leases
from kb_service.workers.meetings.final import FinalIndexer
from kb_service.workers.meetings.live import LiveIndexer
from retrieval.index import VectorIndex
from retrieval.indexing import ChunkEmbedder


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
        self.lease = timedelta(seconds=lease_seconds)
        self.live = LiveIndexer(
            db=db,
            chunker=chunker,
            chunk_embedder=chunk_embedder,
            index=index,
            embed_max_rate=live_embed_max_rate,
        )
        self.final = FinalIndexer(
            db=db, chunker=chunker, chunk_embedder=chunk_embedder, index=index
        )

    def work(self, lane: Lane) -> bool:
        """Claim and index one batch of meetings of the lane's kind; False when none."""
        indexer = self.live if lane.kind == "live" else self.final
        claimed = leases.claim(
            self.db, kind=lane.kind, owner=lane.owner, lease=self.lease, limit=indexer.batch
        )
        indexer.run(claimed, lane.owner)
        return bool(claimed)
