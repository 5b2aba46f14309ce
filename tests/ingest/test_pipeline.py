"""Text preparation for a model window: chunking configs, text records, transcript budget."""

from __future__ import annotations

import pytest

from ingest.pipeline import ChunkingConfig, IngestPipeline
from ingest.window import ModelWindow
from retrieval.embedding import Embedder


@pytest.fixture(scope="module")
def pipeline(embedder: Embedder) -> IngestPipeline:
    return IngestPipeline(window=ModelWindow(embedder.max_tokens, embedder.count_tokens))


def test_chunking_configs_default_to_the_window_and_refuse_overflow(
    pipeline: IngestPipeline,
) -> None:
    assert pipeline.default_chunking() == ChunkingConfig(198, 30)
    assert pipeline.chunking_config(None, None) == ChunkingConfig(198, 30)
    assert pipeline.chunking_config(100, None) == ChunkingConfig(100, 15)
    with pytest.raises(ValueError, match="too large for the embedding model"):
        pipeline.chunking_config(400, None)
    with pytest.raises(ValueError, match="smaller than max_tokens"):
        pipeline.chunking_config(50, 50)


def test_a_text_record_becomes_chunks_the_model_reads_whole(
    pipeline: IngestPipeline, embedder: Embedder
) -> None:
    text = "\n\n".join(f"Step {n}: restart the ingest worker {n} times." * 6 for n in range(40))
    prepared = pipeline.prepare_text(text, "Runbook", pipeline.chunking_config(None, None))
    assert prepared.extracted.title == "Runbook" and len(prepared.chunks) > 1
    for draft in prepared.chunks:
        assert draft.text == prepared.extracted.text[draft.char_start : draft.char_end]
        assert embedder.count_tokens(draft.embedding_text) <= pipeline.window.limit


def test_transcripts_are_cut_to_the_default_budget(pipeline: IngestPipeline) -> None:
    chunker = pipeline.transcript_chunker()
    assert chunker.max_tokens == pipeline.default_chunking().max_tokens
    assert chunker.window is pipeline.window
