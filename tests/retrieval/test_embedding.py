"""The shared embedder under concurrent use: ingestion counts tokens while the model embeds."""

from __future__ import annotations

import threading

import numpy as np

from retrieval.embedding import Embedder


def test_counting_tokens_while_embedding_does_not_break_batches(embedder: Embedder) -> None:
    # Chunking (on the prefetch thread) counts model tokens while a worker embeds a
    # batch of texts of different lengths, which the tokenizer must pad to one length.
    texts = [" ".join(["retrieval"] * n) + " ends here." for n in range(5, 120, 3)]
    stop = threading.Event()
    counted: list[int] = []

    def count_forever() -> None:
        while not stop.is_set():
            counted.append(embedder.count_tokens("a short sentence to count"))

    counter = threading.Thread(target=count_forever)
    counter.start()
    try:
        for _ in range(8):
            vectors = embedder.embed_documents(texts)
            assert vectors.shape == (len(texts), embedder.dimension)
            assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    finally:
        stop.set()
        counter.join()
    assert counted and set(counted) == {embedder.count_tokens("a short sentence to count")}
