"""Rebuilding a knowledge base's vectors from the text kept in SQL, without re-uploading.

Every live document's committed chunks are read back (text, offsets, heading path),
redrafted with the document's title as the chunker carries it
(`IngestPipeline.redraft`), embedded again (dense and BM25) and written over the same
point ids (`point_id(document, version, ordinal)`), so no chunk is ever missing from
the index while this runs and search keeps answering. Use it after a change to what
the embedder sees of a chunk, or to the embedding model.

A document whose live version changes while it is being rebuilt keeps the new
version's points: the rebuilt points of the old version are deleted again (liveness
never returns them meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from ingest.documents import ChunkDraft
from ingest.pipeline import ChunkingConfig, IngestPipeline
from kb_service.db.content import Chunk, Document, KnowledgeBase
from kb_service.db.database import Database
from kb_service.db.meetings import Meeting
from kb_service.errors import NotFound
from kb_service.statuses import DocumentStatus, MeetingStatus
from retrieval.index import PointFilter, VectorIndex
from retrieval.indexing import ChunkEmbedder, ChunkOrigin, build_points


@dataclass(frozen=True)
class ReindexResult:
    documents: int
    chunks: int
    superseded: int  # documents whose live version changed while they were rebuilt


def reindex_knowledge_base(
    db: Database,
    *,
    pipeline: IngestPipeline,
    chunk_embedder: ChunkEmbedder,
    index: VectorIndex,
    organization_id: str,
    kb_id: str,
) -> ReindexResult:
    """Re-embed every live document of the knowledge base; NotFound if it is not the org's."""
    with db.session() as session:
        kb = session.get(KnowledgeBase, kb_id)
        if kb is None or kb.organization_id != organization_id:
            raise NotFound.of("knowledge base", kb_id)
        config = ChunkingConfig(kb.chunk_max_tokens, kb.chunk_overlap_tokens)
        project_id = kb.project_id
        document_ids = session.scalars(
            select(Document.id)
            .where(Document.knowledge_base_id == kb_id, Document.status == DocumentStatus.INDEXED)
            .order_by(Document.id)
        ).all()
    chunks = superseded = 0
    for document_id in document_ids:
        rebuilt = _reindex_document(
            db, pipeline, chunk_embedder, index, config, project_id, document_id
        )
        if rebuilt is None:
            superseded += 1
        else:
            chunks += rebuilt
    return ReindexResult(len(document_ids) - superseded, chunks, superseded)


def _reindex_document(
    db: Database,
    pipeline: IngestPipeline,
    chunk_embedder: ChunkEmbedder,
    index: VectorIndex,
    config: ChunkingConfig,
    project_id: str | None,
    document_id: str,
) -> int | None:
    """Chunks rewritten for the document, or None when its live version moved meanwhile."""
    with db.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.status != DocumentStatus.INDEXED:
            return None
        version = document.version
        origin = ChunkOrigin.document(
            organization_id=document.organization_id,
            knowledge_base_id=document.knowledge_base_id,
            project_id=project_id,
            document_id=document.id,
            source_type=document.source_type,
            created_at=document.updated_at.timestamp(),
        )
        rows = session.scalars(
            select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)
        ).all()
        drafts = [pipeline.redraft(config, document.title, stored_draft(c)) for c in rows]
    if not drafts:
        return 0
    index.upsert(build_points(origin, drafts, chunk_embedder.embed(drafts), version=version))
    with db.session() as session:
        current = session.get(Document, document_id)
        if current is not None and current.version == version:
            return len(drafts)
    index.delete(PointFilter.where(document_id=document_id, version=version))
    return None


def stored_draft(chunk: Chunk) -> ChunkDraft:
    """A committed chunk row as the `ChunkDraft` it was cut as (without its title)."""
    return ChunkDraft(
        chunk.ordinal,
        chunk.text,
        chunk.char_start,
        chunk.char_end,
        chunk.token_count,
        chunk.page_number,
        tuple(chunk.section),
    )


def requeue_meetings(db: Database, *, organization_id: str) -> int:
    """Hand the organization's indexed meetings back to the final indexer; returns how many.

    Each is rebuilt from its stored segments into a new `index_version` that replaces the
    old one only when complete (`kb_service.workers.meetings.final`), so its transcript
    stays searchable throughout; `serve` or `worker` does the work.
    """
    with db.session() as session:
        result = session.execute(
            update(Meeting)
            .where(
                Meeting.organization_id == organization_id,
                Meeting.status == MeetingStatus.INDEXED,
            )
            .values(status=MeetingStatus.ENDED, index_attempts=0)
        )
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
