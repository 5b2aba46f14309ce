"""What the embedder sees of a chunk: the document title, the heading path, the span."""

from __future__ import annotations

from dataclasses import replace

from ingest.chunking import Chunker
from ingest.documents import ChunkDraft, context_prefix
from ingest.extract import extract_text_record
from tests.ingest.chunking_support import ENCODING, Part, build, check_chunks, tokens

TEXT = "VPN profiles expire every 90 days. Regenerate yours in the self-service portal."


def test_the_title_leads_the_embedded_text_but_not_the_span() -> None:
    doc = replace(build([Part(TEXT, "text", None, ("Access",))]), title="IT handbook")
    [chunk] = Chunker(100, 10, ENCODING).run(doc)
    assert chunk.text == TEXT == doc.text[chunk.char_start : chunk.char_end]
    assert chunk.embedding_text == "IT handbook > Access\n" + TEXT
    assert chunk.title == "IT handbook" and chunk.section == ("Access",)


def test_a_title_that_is_the_first_heading_is_not_repeated() -> None:
    assert context_prefix("Guide", ("Guide", "Install")) == "Guide > Install\n"
    assert context_prefix("  guide ", ("Guide",)) == "Guide\n"
    assert context_prefix("Guide", ()) == "Guide\n"
    assert context_prefix(None, ()) == ""


def test_a_json_records_title_counts() -> None:
    doc = extract_text_record(TEXT, title="How do I reset my VPN access?")
    chunks = Chunker(100, 10, ENCODING).run(doc)
    assert chunks[0].embedding_text.startswith("How do I reset my VPN access?")
    assert "reset" not in doc.text  # only the embedded text has it


def test_a_title_too_long_for_the_budget_is_dropped_before_the_headings() -> None:
    long_title = " ".join(["Quarterly"] * 40)  # more than half of a 60-token budget
    doc = replace(build([Part(TEXT * 3, "text", None, ("Access",))]), title=long_title)
    chunker = Chunker(60, 5, ENCODING)
    chunks = chunker.run(doc)
    check_chunks(doc, chunks, chunker)
    assert all(c.title is None and c.section == ("Access",) for c in chunks)
    assert all(tokens(c.embedding_text) <= 60 for c in chunks)


def test_redrafting_a_stored_chunk_gives_back_its_embedded_text() -> None:
    from ingest.pipeline import ChunkingConfig, IngestPipeline
    from ingest.window import ModelWindow

    pipeline = IngestPipeline(window=ModelWindow(limit=254, count=tokens))
    config = ChunkingConfig(100, 10)
    for title in ("IT handbook", " ".join(["Quarterly"] * 40)):
        doc = replace(build([Part(TEXT, "text", None, ("Access",))]), title=title)
        [chunk] = Chunker(100, 10, ENCODING, window=pipeline.window).run(doc)
        stored = ChunkDraft(0, chunk.text, chunk.char_start, chunk.char_end, 0, None, ("Access",))
        assert pipeline.redraft(config, title, stored).embedding_text == chunk.embedding_text
