"""The ingestion pipeline components, wired together.

`IngestPipeline.prepare_*` turns one source into an `ExtractedDocument` and its
`ChunkDraft`s (CPU-bound parsing and chunking); `embed` turns many drafts, from many
documents at once, into dense and sparse vectors (the model is the bottleneck, so
callers batch across documents); `points` builds the index points with deterministic
ids, so a retried job overwrites instead of duplicating.

Failure modes: `prepare_*` raises `ingest.errors.IngestError` subclasses with a
sentence for the user (corrupt, empty, unsupported); `ValueError` from
`chunking_config` means the chunking settings would overflow the model's window.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.chunking import Chunker
from ingest.documents import ChunkDraft, ExtractedDocument, SourceFile
from ingest.extract import Extractor, extract_text_record
from ingest.tokens import load_encoding
from ingest.window import ModelWindow, default_chunking_for
from retrieval.embedding import Embedder
from retrieval.index import IndexPoint, SparseVec
from retrieval.sparse import SparseEncoder

_POINT_NAMESPACE = uuid.UUID("5b0d6f1e-9a51-4c1b-8d55-6b2f2f0a3c11")


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int
    overlap_tokens: int


@dataclass(frozen=True)
class PreparedDocument:
    extracted: ExtractedDocument
    chunks: list[ChunkDraft]


@dataclass(frozen=True)
class EmbeddedChunks:
    dense: np.ndarray | None  # None: sparse vectors only (`IngestPipeline.embed(dense=False)`)
    sparse: list[SparseVec]

    def dense_row(self, row: int) -> list[float] | None:
        return self.dense[row].tolist() if self.dense is not None else None


def point_id(document_id: str, version: int, ordinal: int) -> str:
    """Deterministic point id of chunk `ordinal` of `version` of a document."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{document_id}:{version}:{ordinal}"))


def chunk_id(point: str) -> str:
    return "chk_" + point.replace("-", "")[:24]


class IngestPipeline:
    """Shared, thread-safe pipeline; one per process (the model is loaded once)."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        sparse_encoder: SparseEncoder | None = None,
        extractor: Extractor | None = None,
    ) -> None:
        self.embedder = embedder
        self.sparse_encoder = sparse_encoder or SparseEncoder()
        self.extractor = extractor or Extractor()
        self._encoding = load_encoding()
        self._window = ModelWindow(limit=embedder.max_tokens, count=embedder.count_tokens)
        self._chunkers: dict[ChunkingConfig, Chunker] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.extractor.warm_up()

    def default_chunking(self) -> ChunkingConfig:
        """Chunk budget derived from the embedding model's window (~15% overlap)."""
        max_tokens, overlap = default_chunking_for(self._window)
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
                    config.max_tokens, config.overlap_tokens, self._encoding, window=self._window
                )
                self._chunkers[config] = chunker
            return chunker

    def prepare_file(self, source: SourceFile, config: ChunkingConfig) -> PreparedDocument:
        extracted = self.extractor.run(source)
        return PreparedDocument(extracted, self._chunker(config).run(extracted))

    def prepare_text(
        self, text: str, title: str | None, config: ChunkingConfig
    ) -> PreparedDocument:
        extracted = extract_text_record(text, title=title)
        return PreparedDocument(extracted, self._chunker(config).run(extracted))

    def embed(self, drafts: Sequence[ChunkDraft], *, dense: bool = True) -> EmbeddedChunks:
        """Dense and sparse vectors of `drafts`; `dense=False` skips the model call."""
        texts = [d.embedding_text for d in drafts]
        vectors = self.embedder.embed_documents(texts) if dense else None
        sparse = [self.sparse_encoder.embed_document(t) for t in texts]
        return EmbeddedChunks(vectors, sparse)

    @staticmethod
    def points(
        drafts: Sequence[ChunkDraft],
        vectors: EmbeddedChunks,
        *,
        offset: int,
        document_id: str,
        version: int,
        payload: dict[str, Any],
    ) -> list[IndexPoint]:
        """Index points for `drafts`, whose vectors start at row `offset` of `vectors`."""
        result = []
        for i, draft in enumerate(drafts):
            pid = point_id(document_id, version, draft.ordinal)
            result.append(
                IndexPoint(
                    id=pid,
                    dense=vectors.dense_row(offset + i),
                    sparse=vectors.sparse[offset + i],
                    payload={
                        **payload,
                        "chunk_id": chunk_id(pid),
                        "document_id": document_id,
                        "version": version,
                        "ordinal": draft.ordinal,
                        "text": draft.text,
                        "char_start": draft.char_start,
                        "char_end": draft.char_end,
                        "page_number": draft.page_number,
                        "section": list(draft.section),
                    },
                )
            )
        return result
