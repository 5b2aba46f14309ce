"""Chunking: configuration, boundaries, overlap, folding, hard text, speed and threads."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ingest.chunking import Chunker
from ingest.documents import ExtractedDocument, TextBlock
from ingest.sentences import sentence_spans
from ingest.window import ModelWindow, default_chunking_for
from tests.ingest.chunking_support import (
    ENCODING,
    MINILM_LIMIT,
    Part,
    build,
    check_chunks,
    tokens,
)

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


def test_five_thousand_paragraphs_chunk_in_linear_time(minilm: ModelWindow) -> None:
    """Ten times the paragraphs costs about ten times the CPU, not a hundred.

    CPU time of the same process, small and large document in one run, so the figure
    does not depend on what else the machine is doing.
    """
    small, large = _long_document(500), _long_document(5000)
    for window in (None, minilm):
        chunker = Chunker(198, 30, ENCODING, window=window)
        chunker.run(small)  # warm caches
        small_cpu, large_cpu = float("inf"), float("inf")
        for _ in range(3):  # the fastest of three: a stray pause is not the algorithm
            started = time.process_time()
            chunker.run(small)
            small_cpu = min(small_cpu, time.process_time() - started)
            started = time.process_time()
            chunks = chunker.run(large)
            large_cpu = min(large_cpu, time.process_time() - started)
        assert len(chunks) > 500
        assert large_cpu < 25 * max(small_cpu, 0.01), (small_cpu, large_cpu)


def test_one_chunker_serves_many_threads() -> None:
    chunker = Chunker(60, 10, ENCODING)
    docs = [_long_document(30 + n) for n in range(8)]
    expected = [chunker.run(doc) for doc in docs]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(chunker.run, docs)) == expected
