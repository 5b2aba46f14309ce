"""Chunking property tests: generated documents keep every guarantee, in any window."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.documents import ExtractedDocument
from ingest.window import ModelWindow, default_chunking_for
from tests.ingest.chunking_support import ENCODING, Part, build, check_chunks

# ---------------------------------------------------------------- generated documents

_WORD_TEXT = (
    "the of knowledge base index retrieval chunk overlap budget café naïve Ελλάδα 中文字符 "
    "😀 👩‍👩‍👧 3.5 1,000 e.g. Dr. U.S. i.e. J. x ok \u00a0 https://example.com/a?b=c#d"
)
_WORDS = _WORD_TEXT.split(" ")
_LONG_WORD_CHARS = list("abcXYZ0129éßø中文字😀👍🏽—·.,;:!?-_/()[]\"'@#%&*+=<>ÅΩжش")
_long_word = st.one_of(
    st.text(st.sampled_from(_LONG_WORD_CHARS), min_size=20, max_size=250),
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from(["ab", "9", "é", "😀", "-="]),
        st.integers(20, 300),
    ),
)
_word = st.one_of(st.sampled_from(_WORDS), st.sampled_from(_WORDS), _long_word)
_sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(_word, min_size=1, max_size=24),
    st.sampled_from([".", ".", "!", "?", "", "。", '."']),
)
_paragraph = st.builds(
    lambda s, sep: sep.join(s),
    st.lists(_sentence, min_size=1, max_size=6),
    st.sampled_from([" ", " ", "\n", "  "]),
)


@st.composite
def documents(draw: st.DrawFn) -> ExtractedDocument:
    """Random headings, paragraphs, pages, empty and blank blocks, unicode, huge words."""
    parts: list[Part] = []
    page = 1
    path: tuple[str, ...] = ()
    track_sections = draw(st.booleans())
    for _ in range(draw(st.integers(0, 10))):
        page += draw(st.sampled_from([0, 0, 0, 1]))
        separator = draw(st.sampled_from(["\n\n", "\n", " ", ""]))
        kind = draw(
            st.sampled_from(
                ["title", "text", "text", "text", "list_item", "table", "empty", "blank"]
            )
        )
        if kind == "title":
            heading = draw(
                st.sampled_from(
                    ["Intro", "Setup", "FAQ", "Überblick", "概要", "A very long heading " * 6]
                )
            )
            path = (*path[: draw(st.integers(0, 2))], heading) if track_sections else ()
            own = path if draw(st.booleans()) else path[:-1]
            parts.append(Part(heading, "title", page, own, separator))
        elif kind in ("empty", "blank"):
            parts.append(Part("" if kind == "empty" else " \n ", "text", page, path, separator))
        else:
            parts.append(Part(draw(_paragraph), kind, page, path, separator))
    return build(parts)


@st.composite
def chunkers(draw: st.DrawFn) -> Chunker:
    max_tokens = draw(st.integers(16, 160))
    overlap = draw(
        st.one_of(st.just(0), st.integers(0, max_tokens // 3), st.integers(0, max_tokens - 1))
    )
    window = None
    if draw(st.booleans()):  # a byte-level-like model: one token per character
        window = ModelWindow(
            limit=draw(st.integers(int(max_tokens / 0.78) + 1, 4 * max_tokens)), count=len
        )
    return Chunker(max_tokens, overlap, ENCODING, window=window)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(doc=documents(), chunker=chunkers())
def test_generated_documents_keep_every_guarantee(doc: ExtractedDocument, chunker: Chunker) -> None:
    check_chunks(doc, chunker.run(doc), chunker)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(doc=documents())
def test_generated_documents_fit_the_real_minilm_window(
    doc: ExtractedDocument, minilm: ModelWindow
) -> None:
    max_tokens, overlap = default_chunking_for(minilm)
    chunker = Chunker(max_tokens, overlap, ENCODING, window=minilm)
    check_chunks(doc, chunker.run(doc), chunker)
