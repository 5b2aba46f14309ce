"""Text preparation: one source in, its `ExtractedDocument` and `ChunkDraft`s out.

`IngestPipeline` holds the parts every ingestion path shares for one embedding model
window: the extractor, the cl100k encoding and one `Chunker` per chunking config.
`prepare_file` and `prepare_text` parse and chunk (CPU-bound; callers run them ahead
of the model); `transcript_chunker` cuts meeting transcripts to the same default
budget. Embedding the drafts and indexing them is `retrieval.indexing`.

Failure modes: `prepare_*` raises `ingest.errors.IngestError` subclasses with a
sentence for the user (corrupt, empty, unsupported); `ValueError` from
`chunking_config` means the chunking settings would overflow the model's window.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from ingest.chunking import Chunker
from ingest.documents import ChunkDraft, ExtractedDocument, SourceFile
from ingest.extract import Extractor, extract_text_record
from ingest.tokens import load_encoding
from ingest.transcript_chunking import TranscriptChunker
from ingest.window import ModelWindow, default_chunking_for


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int
    overlap_tokens: int


@dataclass(frozen=True)
class PreparedDocument:
    """A parsed and chunked document; `parse_seconds` and `chunk_seconds` each stage took
    (measured where it ran, e.g. in a parser process, and reported by the caller; not
    part of equality: the same document prepared twice is equal)."""

    extracted: ExtractedDocument
    chunks: list[ChunkDraft]
    parse_seconds: float = field(default=0.0, compare=False)
    chunk_seconds: float = field(default=0.0, compare=False)


class IngestPipeline:
    """Shared, thread-safe text preparation for the embedding model's `window`."""

    def __init__(self, *, window: ModelWindow, extractor: Extractor | None = None) -> None:
        self.window = window
        self.extractor = extractor or Extractor()
        self._encoding = load_encoding()
        self._chunkers: dict[ChunkingConfig, Chunker] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.extractor.warm_up()

    def default_chunking(self) -> ChunkingConfig:
        """Chunk budget derived from the embedding model's window (~15% overlap)."""
        max_tokens, overlap = default_chunking_for(self.window)
        return ChunkingConfig(max_tokens, overlap)

    def chunking_config(self, max_tokens: int | None, overlap_tokens: int | None) -> ChunkingConfig:
        """Validated chunking config; missing values come from the default. Raises ValueError."""
        default = self.default_chunking()
        size = default.max_tokens if max_tokens is None else max_tokens
        if overlap_tokens is None:
            overlap_tokens = default.overlap_tokens if max_tokens is None else round(size * 0.15)
        config = ChunkingConfig(size, overlap_tokens)
        self._chunker(config)
        return config

    def _chunker(self, config: ChunkingConfig) -> Chunker:
        with self._lock:
            chunker = self._chunkers.get(config)
            if chunker is None:
                chunker = Chunker(
                    config.max_tokens, config.overlap_tokens, self._encoding, window=self.window
                )
                self._chunkers[config] = chunker
            return chunker

    def transcript_chunker(self) -> TranscriptChunker:
        """Speaker-turn chunking of meeting transcripts at the default budget."""
        return TranscriptChunker(self.default_chunking().max_tokens, self._encoding, self.window)

    def redraft(self, config: ChunkingConfig, title: str | None, stored: ChunkDraft) -> ChunkDraft:
        """`stored` (a chunk as kept in SQL, without its title) as it was chunked: with
        the document's title when the chunker carried it, so `embedding_text` matches."""
        kept, section, _ = self._chunker(config).context_for(title, stored.section)
        return replace(stored, title=kept if section == stored.section else None)

    def prepare_file(self, source: SourceFile, config: ChunkingConfig) -> PreparedDocument:
        started = time.perf_counter()
        extracted = self.extractor.run(source)
        return self._chunked(extracted, config, time.perf_counter() - started)

    def prepare_text(
        self, text: str, title: str | None, config: ChunkingConfig
    ) -> PreparedDocument:
        started = time.perf_counter()
        extracted = extract_text_record(text, title=title)
        return self._chunked(extracted, config, time.perf_counter() - started)

    def _chunked(
        self, extracted: ExtractedDocument, config: ChunkingConfig, parse_seconds: float
    ) -> PreparedDocument:
        started = time.perf_counter()
        chunks = self._chunker(config).run(extracted)
        return PreparedDocument(extracted, chunks, parse_seconds, time.perf_counter() - started)
