"""Token-budgeted chunking: an `ExtractedDocument` becomes `ChunkDraft`s the embedder sees whole.

`Chunker(max_tokens, overlap_tokens, encoding, window=None).run(document)` returns
chunks, in document order, whose `text == document.text[char_start:char_end]` (stripped
by moving offsets, never by editing text) and whose `embedding_text` (document
title, heading path, span) has at most `max_tokens` cl100k tokens, and, when a
`ModelWindow` is given, at most `window.limit` tokens by the embedding model's own
tokenizer, so the model never truncates (text it never sees can never be found). Every non-whitespace character of
the document lands in at least one chunk.

How text is cut:
- Sections: a chunk never spans two heading paths; a run of headings joins the content
  it introduces, and the chunk takes that content's heading path as `section`
  (`page_number` is the page where the chunk starts).
- Inside a section chunks are filled greedily, then cut at the strongest boundary that
  keeps the chunk at least half full: page break, then block (paragraph) boundary, then
  sentence; a chunk never ends with a heading. A sentence is split (at line breaks, then
  words, then cl100k token boundaries) only when it cannot fit in a chunk by itself.
- Overlap: the next chunk of a section starts with the last whole sentences of the
  previous one that fit in `overlap_tokens`; when even the last sentence is longer, with
  its last words that fit (after a table row, only whole rows, or nothing). The
  overlap never exceeds `overlap_tokens`.
- Fragments: when the last chunk of a section has fewer than `max_tokens / 4` tokens it
  is folded into the chunk before it, if the merged span still fits both budgets.

`__init__` raises `ValueError` for an impossible configuration; `run` does not fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import tiktoken

from ingest.documents import ChunkDraft, ExtractedDocument, TextBlock, context_prefix
from ingest.normalise import ROW
from ingest.packing import Atom, Level, Packer, Run
from ingest.sentences import sentence_spans, strip_span
from ingest.window import MIN_MAX_TOKENS, ModelWindow, default_chunking_for


class Chunker:
    """Pipeline component: `ExtractedDocument` in, token-budgeted `ChunkDraft`s out.

    See the module docstring for the cutting rules and guarantees. The instance holds
    only configuration, so one chunker can serve many threads.
    """

    def __init__(
        self,
        max_tokens: int,
        overlap_tokens: int,
        encoding: tiktoken.Encoding,
        window: ModelWindow | None = None,
    ) -> None:
        if max_tokens < MIN_MAX_TOKENS:
            raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS} (got {max_tokens}).")
        if overlap_tokens < 0:
            raise ValueError(f"overlap_tokens must not be negative (got {overlap_tokens}).")
        if overlap_tokens >= max_tokens:
            raise ValueError(
                f"overlap_tokens ({overlap_tokens}) must be smaller than max_tokens ({max_tokens})."
            )
        if window is not None:
            cap, _ = default_chunking_for(window)
            if max_tokens > cap:
                raise ValueError(
                    f"max_tokens={max_tokens} is too large for the embedding model, which reads "
                    f"at most {window.limit} of its own tokens and would silently drop the rest "
                    f"of each chunk; use at most {cap}."
                )
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.encoding = encoding
        self.window = window

    def run(self, document: ExtractedDocument) -> list[ChunkDraft]:
        """Chunk `document`; an empty or whitespace-only document yields no chunks."""
        text = document.text
        drafts: list[ChunkDraft] = []
        for run in self._runs(document):
            packer = Packer(
                text, run, self.max_tokens, self.overlap_tokens, self.encoding, self.window
            )
            for piece in packer.pack():
                drafts.append(
                    ChunkDraft(
                        ordinal=len(drafts),
                        text=text[piece.start : piece.end],
                        char_start=piece.start,
                        char_end=piece.end,
                        token_count=piece.tokens,
                        page_number=piece.page,
                        section=run.section,
                        title=run.title,
                    )
                )
        return drafts

    def _runs(self, document: ExtractedDocument) -> Iterator[Run]:
        """Group the document's blocks into runs that share one heading path."""
        blocks = _normalised_blocks(document)
        keys = _section_keys(blocks)
        start = 0
        for index in range(1, len(blocks) + 1):
            if index == len(blocks) or keys[index] != keys[start]:
                yield self._run(document, keys[start], blocks[start:index])
                start = index

    def _run(
        self, document: ExtractedDocument, section: tuple[str, ...], blocks: list[TextBlock]
    ) -> Run:
        """Atoms (sentences) of `blocks` with boundary strengths and token estimates."""
        text = document.text
        title, section, prefix = self.context_for(document.title, section)
        atoms: list[Atom] = []
        page: int | None = None
        for block in blocks:
            for index, (start, end) in enumerate(
                sentence_spans(text, block.char_start, block.char_end)
            ):
                if not atoms:
                    level = Level.RUN
                elif index:
                    level = Level.SENTENCE
                else:
                    level = Level.PAGE if block.page_number != page else Level.BLOCK
                lead = atoms[-1].end if atoms else start
                atoms.append(
                    Atom(
                        start,
                        end,
                        lead,
                        0,
                        level,
                        Level.SENTENCE,
                        block.kind == "title",
                        block.page_number,
                        block.kind == ROW,
                    )
                )
            page = block.page_number
        # Each estimate includes the whitespace before the atom, so the sum over a
        # chunk is close to (and rarely below) the encoded length of its span.
        encode = self.encoding.encode_ordinary
        for atom in atoms:
            atom.tokens = len(encode(text[atom.lead : atom.end]))
        prefix_tokens = len(self.encoding.encode_ordinary(prefix))
        return Run(section, prefix, prefix_tokens, atoms, title)

    def context_for(
        self, title: str | None, section: tuple[str, ...]
    ) -> tuple[str | None, tuple[str, ...], str]:
        """The title and heading path to carry within half a budget: (title, path, prefix).

        When they take more, the title goes first, then the outer headings one by one.
        """
        while title or section:
            prefix = context_prefix(title, section)
            fits_tokens = len(self.encoding.encode_ordinary(prefix)) <= self.max_tokens // 2
            if fits_tokens and (
                self.window is None or self.window.count(prefix) <= self.window.limit // 2
            ):
                return title, section, prefix
            if title:
                title = None
            else:
                section = section[1:]
        return None, (), ""


def _normalised_blocks(document: ExtractedDocument) -> list[TextBlock]:
    """Blocks sorted, clipped to the text, without overlaps or blank blocks.

    Non-blank text that no block covers becomes a "text" block with its neighbour's page
    and section, so nothing the extractor missed is lost.
    """
    text = document.text
    ordered = sorted(document.blocks, key=lambda b: (b.char_start, b.char_end))
    blocks: list[TextBlock] = []
    cursor = 0
    for block in ordered:
        start, end = max(block.char_start, cursor), min(block.char_end, len(text))
        if start >= end:
            continue
        neighbour = blocks[-1] if blocks else block
        if strip_span(text, cursor, start) is not None:
            blocks.append(replace(neighbour, char_start=cursor, char_end=start, kind="text"))
        if strip_span(text, start, end) is not None:
            blocks.append(replace(block, char_start=start, char_end=end))
        cursor = end
    if strip_span(text, cursor, len(text)) is not None:
        last = blocks[-1] if blocks else TextBlock(0, 0, "text")
        blocks.append(replace(last, char_start=cursor, char_end=len(text), kind="text"))
    return blocks


def _section_keys(blocks: list[TextBlock]) -> list[tuple[str, ...]]:
    """Each block's chunk section: its own, or for a heading that of the content it leads."""
    keys: list[tuple[str, ...]] = []
    following: tuple[str, ...] | None = None
    for block in reversed(blocks):
        if block.kind == "title":
            keys.append(following if following is not None else block.section)
        else:
            following = block.section
            keys.append(following)
    return keys[::-1]
