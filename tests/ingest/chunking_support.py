"""Building documents for the chunker and checking every guarantee `Chunker.run` documents."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.chunking import Chunker
from ingest.documents import ChunkDraft, ExtractedDocument, TextBlock
from ingest.sentences import sentence_spans, word_spans
from ingest.tokens import load_encoding

ENCODING = load_encoding()
MINILM_LIMIT = 254  # 256 word pieces minus [CLS] and [SEP]


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
