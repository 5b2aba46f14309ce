"""What the embedding model reads, and the chunk budget that fits it.

A `ModelWindow` is the model's limit and its own token counter; the chunkers check
every embedded text against it so the model never truncates. `default_chunking_for`
turns a window into the cl100k budget chunks are cut to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MIN_MAX_TOKENS = 16
# cl100k packs English into fewer tokens than BERT word pieces (~1.2 word pieces per
# cl100k token), so a cl100k budget at 78 % of the window leaves room for that ratio;
# the run-time check with the model's own tokenizer catches the dense exceptions.
WINDOW_SHARE = 0.78
OVERLAP_SHARE = 0.15


@dataclass(frozen=True)
class ModelWindow:
    """What the embedding model reads: at most `limit` tokens as counted by `count`.

    `limit` excludes special tokens (all-MiniLM-L6-v2: 256 word pieces minus [CLS] and
    [SEP] = 254) and `count(text)` counts without them. `retrieval.indexing` builds it
    from the embedder.
    """

    limit: int
    count: Callable[[str], int]


def default_chunking_for(window: ModelWindow) -> tuple[int, int]:
    """The `(max_tokens, overlap_tokens)` to use for `window`; max_tokens is also its cap."""
    max_tokens = int(window.limit * WINDOW_SHARE)
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(
            f"The embedding model window of {window.limit} tokens is too small to chunk for; "
            f"it must allow at least {MIN_MAX_TOKENS} cl100k tokens per chunk."
        )
    return max_tokens, round(max_tokens * OVERLAP_SHARE)
