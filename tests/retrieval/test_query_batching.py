import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from retrieval.embedding import Embedder, QueryBatcher

QUERIES = [f"question {i} about {topic}" for i, topic in enumerate(["vpn", "payroll"] * 8)]


def test_concurrent_queries_each_get_their_own_vector_from_the_real_model(
    embedder: Embedder,
) -> None:
    expected = embedder.embed_documents(QUERIES)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(embedder.embed_query, QUERIES))
    assert np.allclose(np.array(got), expected, atol=1e-5)


def test_waiting_queries_share_one_model_call_and_failures_reach_every_caller() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        gate.wait(5)
        if "boom" in texts:
            raise RuntimeError("model failed")
        return np.array([[float(len(t))] for t in texts])

    batcher = QueryBatcher(encode)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(batcher.embed, "a")
        while not calls:  # the first call holds the model; the next five queue up
            pass
        rest = [pool.submit(batcher.embed, "b" * n) for n in range(2, 7)]
        gate.set()
        assert first.result() == [1.0]
        assert [f.result() for f in rest] == [[float(n)] for n in range(2, 7)]
    assert calls[0] == 1 and sum(calls) == 6 and len(calls) <= 3

    with pytest.raises(RuntimeError, match="model failed"):
        batcher.embed("boom")
    assert batcher.embed("ok") == [2.0]  # a failure does not wedge the batcher
