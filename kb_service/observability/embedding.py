"""An `Embedder` that records each call's batch size and duration, around the real one.

Document batches are the chunks the ingest worker and the meeting indexer embed. A
query is one text per call, so only its duration is recorded; it includes the wait
for the model call it shares with concurrent queries (`retrieval.embedding.QueryBatcher`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from kb_service.observability.metrics import EMBEDDING_BATCH_SIZE, EMBEDDING_DURATION
from retrieval.embedding import Embedder

_document_size = EMBEDDING_BATCH_SIZE.labels("documents")
_document_time = EMBEDDING_DURATION.labels("documents")
_query_time = EMBEDDING_DURATION.labels("query")


class InstrumentedEmbedder(Embedder):
    """Delegates to `inner`; observes `kb_embedding_batch_size` and `..._duration_seconds`."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def token_counter(self) -> Callable[[str], int]:
        return self.inner.token_counter()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        if texts:
            _document_time.observe(time.perf_counter() - started)
            _document_size.observe(len(texts))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        started = time.perf_counter()
        vector = self.inner.embed_query(text)
        _query_time.observe(time.perf_counter() - started)
        return vector


def instrumented(embedder: Embedder) -> Embedder:
    """`embedder` wrapped once (an already wrapped one is returned as it is)."""
    return (
        embedder if isinstance(embedder, InstrumentedEmbedder) else InstrumentedEmbedder(embedder)
    )
