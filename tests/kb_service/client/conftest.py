"""The client tests' server: the real app under uvicorn on loopback, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.client.client_support import Served, served_app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Served]:
    settings = make_settings(tmp_path_factory.mktemp("client"))
    with served_app(settings, embedder) as app:
        yield app
