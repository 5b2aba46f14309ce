"""Sparse lexical vectors (BM25 term weights) for hybrid search.

Uses the BM25 model that ships in `qdrant-edge-py` (English tokenizer, stop words,
Snowball stemmer, k=1.2, b=0.75). Documents get saturated term-frequency weights;
queries get weight 1 per unique term. The index applies IDF at query time (Qdrant's
IDF modifier), so vectors written at ingestion stay valid as the corpus grows. The
same vectors are written to both backends, so Edge and server rank identically.
"""

from __future__ import annotations

import threading

import qdrant_edge as qe

from retrieval.index.base import SparseVec


class SparseEncoder:
    """BM25 document/query encoder; stateless apart from its config, thread-safe."""

    def __init__(self, k: float = 1.2, b: float = 0.75, avg_len: float = 256.0) -> None:
        self._config = qe.Bm25Config(k=k, b=b, avg_len=avg_len, language="english")
        self._local = threading.local()

    def _model(self) -> qe.Bm25:
        model = getattr(self._local, "model", None)
        if model is None:
            model = self._local.model = qe.Bm25(self._config)
        return model

    def embed_document(self, text: str) -> SparseVec:
        vector = self._model().embed_document(text)
        return SparseVec(indices=list(vector.indices), values=list(vector.values))

    def embed_query(self, text: str) -> SparseVec:
        vector = self._model().embed_query(text)
        return SparseVec(indices=list(vector.indices), values=list(vector.values))
