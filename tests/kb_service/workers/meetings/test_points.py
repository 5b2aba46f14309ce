"""Meeting chunks into index points (`workers/meetings/points.py`): the stored payloads.

The expected payloads are written out in full: they are what Qdrant already holds for
every indexed meeting, so a change here changes stored data.
"""

from __future__ import annotations

import pytest

from ingest.documents import ChunkDraft
from ingest.transcript_chunking import TranscriptChunk
from ingest.transcripts import SegmentSpan
from kb_service.workers.meetings.points import final_chunks, live_chunks, meeting_points
from retrieval.index import SparseVec
from retrieval.indexing import EmbeddedChunks, build_points, chunk_id, point_id
from tests.retrieval.test_indexing import MEETING, VECTORS, exact


def test_a_final_meeting_point_has_the_stored_payload() -> None:
    spans = [SegmentSpan(4, "Ines", 10.0, 0, 20, 0), SegmentSpan(5, "Tomas", 12.5, 30, 45, 22)]
    chunks = final_chunks([TranscriptChunk(0, "x" * 45, 0, 45, 9, (), spans)], None)
    [point] = meeting_points(chunks, VECTORS, offset=2, version=2, origin=MEETING)
    assert point.id == point_id("mtg_1", 2, 0) and point.dense == [0.5, 0.5]
    assert exact(point.payload) == exact(
        {
            "organization_id": "org_1",
            "project_id": "prj_1",
            "created_at": 1767225600.25,
            "source_type": "meeting",
            "meeting_id": "mtg_1",
            "knowledge_base_id": None,
            "document_id": None,
            "chunk_id": chunk_id(point.id),
            "version": 2,
            "ordinal": 0,
            "text": "x" * 45,
            "char_start": 0,
            "char_end": 45,
            "page_number": None,
            "section": [],
            "speaker": "Ines",
            "timestamp": 10.0,
            "speakers": ["Ines", "Tomas"],
            "first_timestamp": 10.0,
            "last_timestamp": 12.5,
            "segments": [
                {"char_start": 0, "char_end": 20, "speaker": "Ines", "timestamp": 10.0},
                {"char_start": 30, "char_end": 45, "speaker": "Tomas", "timestamp": 12.5},
            ],
        }
    )


def test_a_lexical_live_point_keeps_what_the_model_would_have_read() -> None:
    span = SegmentSpan(7, "Priya", 30.0, 100, 120, 92)
    chunks = live_chunks([span], ["Hello there everyone"], [[(0, 11), (12, 20)]], None)
    lexical = EmbeddedChunks(None, [SparseVec([9], [1.0]), SparseVec([8], [1.0])])
    first, second = meeting_points(chunks, lexical, offset=0, version=1, origin=MEETING)
    assert first.dense is None and first.sparse == SparseVec([9], [1.0])
    assert exact(first.payload) == exact(
        {
            "organization_id": "org_1",
            "project_id": "prj_1",
            "created_at": 1767225600.25,
            "source_type": "meeting",
            "meeting_id": "mtg_1",
            "knowledge_base_id": None,
            "document_id": None,
            "chunk_id": "chk_2dcc9baedd2157db9f94352b",
            "version": 1,
            "ordinal": 7000,
            "text": "Hello there",
            "char_start": 100,
            "char_end": 111,
            "page_number": None,
            "section": [],
            "speaker": "Priya",
            "timestamp": 30.0,
            "speakers": ["Priya"],
            "first_timestamp": 30.0,
            "last_timestamp": 30.0,
            "segments": [
                {"char_start": 100, "char_end": 111, "speaker": "Priya", "timestamp": 30.0}
            ],
            "embedding_text": "Priya\nHello there",
        }
    )
    assert second.payload["ordinal"] == 7001 and second.payload["text"] == "everyone"
    embedded = meeting_points(chunks, VECTORS, offset=0, version=1, origin=MEETING)
    assert all("embedding_text" not in p.payload for p in embedded)


def test_a_meeting_chunk_without_its_segments_is_refused() -> None:
    draft = ChunkDraft(0, "Hello.", 0, 6, 2)
    with pytest.raises(ValueError, match="segments"):
        build_points(MEETING, [draft], VECTORS, version=1)
    with pytest.raises(ValueError, match="segments"):
        build_points(MEETING, [draft], VECTORS, version=1, segments=[[]])
