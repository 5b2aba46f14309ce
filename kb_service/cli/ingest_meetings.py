"""`kb-service ingest`'s transcript files: imported as meetings and indexed in this process.

Transcript files among the paths (`.vtt`, `.srt`, or JSON with a `segments` array:
`transcript_import.is_meeting_file`) become meetings of the knowledge base's project
(none if it has none) through `transcript_import.import_transcript_file`, then each
is indexed here under its lease (`leases.claim_meeting`), like the final indexer of
`serve` or a worker would; a meeting another process holds is left to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from kb_service.db.meetings import Meeting
from kb_service.errors import ServiceError
from kb_service.runtime import Runtime
from kb_service.services import transcript_import
from kb_service.statuses import MeetingStatus
from kb_service.workers.base import worker_identity
from kb_service.workers.meetings import leases
from kb_service.workers.meetings.final import FinalIndexer


@dataclass
class MeetingImports:
    indexed: list[tuple[str, str]] = field(default_factory=list)  # (path, meeting id)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def split_meeting_files(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(document files, transcript files)."""
    documents: list[Path] = []
    transcripts: list[Path] = []
    for path in files:
        is_meeting = transcript_import.is_meeting_file(path.name, path.read_bytes())
        (transcripts if is_meeting else documents).append(path)
    return documents, transcripts


def import_meetings(
    runtime: Runtime, *, organization_id: str, project_id: str | None, paths: list[Path]
) -> MeetingImports:
    """Import and index each transcript file; what became of each."""
    result = MeetingImports()
    imported: list[tuple[str, str]] = []
    for path in paths:
        try:
            meeting = transcript_import.import_transcript_file(
                runtime.db,
                organization_id=organization_id,
                filename=path.name,
                content=path.read_bytes(),
                project_id=project_id,
            )
        except ServiceError as exc:
            result.failed.append((str(path), exc.message))
            continue
        imported.append((str(path), meeting.id))
    indexer = FinalIndexer(
        db=runtime.db,
        chunker=runtime.pipeline.transcript_chunker(),
        chunk_embedder=runtime.chunk_embedder,
        index=runtime.index,
    )
    owner = worker_identity()
    lease = timedelta(seconds=runtime.settings.meetings.lease_seconds)
    for label, meeting_id in imported:
        if leases.claim_meeting(runtime.db, meeting_id=meeting_id, owner=owner, lease=lease):
            indexer.run([meeting_id], owner)
        with runtime.db.session() as session:
            stored = session.get(Meeting, meeting_id)
            status = stored.status if stored else None
        if status == MeetingStatus.INDEXED:
            result.indexed.append((label, meeting_id))
        else:
            result.failed.append(
                (label, f"meeting {meeting_id} was imported but is not indexed yet ({status}).")
            )
    return result
