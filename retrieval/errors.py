"""Why retrieval could not embed, reach the index or answer.

Messages are sentences for an operator or a user (they name the setting, path or
endpoint at fault); none carries an HTTP status code (the API layer maps classes to
responses, the CLI prints the message).

    EmbeddingModelMissing   the configured embedding model cannot be found or loaded
    IndexUnavailable        the vector index cannot be opened or reached
    LlmUnavailable          the chat-completions endpoint is unreachable, timed out,
    │                       answered non-2xx or not in the chat-completions shape
    └── UncitedAnswer       the model answered but cited none of its sources

A service answering with the generative answerer falls back to the extractive one on
`LlmUnavailable` (`UncitedAnswer` included).
"""

from __future__ import annotations


class EmbeddingModelMissing(Exception):
    """The configured embedding model cannot be found or loaded."""


class IndexUnavailable(Exception):
    """The vector index cannot be opened or reached; the message says why."""


class LlmUnavailable(Exception):
    """The chat-completions endpoint failed or answered in an unexpected shape."""


class UncitedAnswer(LlmUnavailable):
    """The model answered but cited none of its sources: nothing in it can be checked."""

    def __init__(self) -> None:
        super().__init__(
            "The language model's answer cited none of the sources, so it is not shown."
        )
