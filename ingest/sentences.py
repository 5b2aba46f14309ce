"""Fast text segmentation for the chunker: sentences, lines, words and token runs.

Every function takes the whole document text plus a `[start, end)` window and returns
`(start, end)` spans into that same text, stripped of surrounding whitespace, in order,
never overlapping, and covering every non-whitespace character of the window. Offsets
are what citations use, so nothing here ever copies or rewrites text.

Sentences are found with one regular expression plus a few rules, not a parser (this is
the ingestion hot path): a boundary follows `.`, `!`, `?` or `…` (plus closing quotes or
brackets) when whitespace comes next, and after CJK full stops; a blank line always
ends a sentence. Nothing ends a sentence when the next word starts lower-case, and a
`.` does not after a known abbreviation ("Dr.", "approx."), a dotted acronym ("e.g.",
"U.S."), a single initial ("J. Smith") or a list number at a line start ("1. Install").
Decimals ("3.5") never split because no whitespace follows their point.
"""

from __future__ import annotations

import re

import tiktoken

Span = tuple[int, int]

# Closing quotes and brackets (\u201d \u2019 \u00bb) may follow the terminal punctuation;
# CJK full stops (\u3002 \uff01 \uff1f) need no space after them.
_CANDIDATE = re.compile(
    "[.!?\u2026]+[\"')\\]\u201d\u2019\u00bb]*(?=\\s)"
    "|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019)\uff09]*"
    "|\n[^\\S\n]*\n"  # a blank line
)
_OPENERS = "([{\"'\u201c\u2018"
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_WORD = re.compile(r"\S+")
_NON_SPACE = re.compile(r"\S")
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st mt ft vs fig figs eq eqs no nos vol vols pp approx est "
    "dept inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec cf al ca gen "
    "col lt sgt capt rev hon ed eds op ch sec art para ref refs min max av ave"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def strip_span(text: str, start: int, end: int) -> Span | None:
    """Shrink `[start, end)` past leading/trailing whitespace; None when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def sentence_spans(text: str, start: int, end: int) -> list[Span]:
    """Split `text[start:end]` into sentences (see the module docstring for the rules)."""
    spans: list[Span] = []
    piece_start = start
    for match in _CANDIDATE.finditer(text, start, end):
        if match.group()[0] in ".!?\u2026" and not _ends_sentence(text, match, end):
            continue
        _append(spans, text, piece_start, match.end())
        piece_start = match.end()
    _append(spans, text, piece_start, end)
    return spans


def line_spans(text: str, start: int, end: int) -> list[Span]:
    """Split `text[start:end]` at line breaks (table rows, list lines, code)."""
    spans: list[Span] = []
    piece_start = start
    while (newline := text.find("\n", piece_start, end)) != -1:
        _append(spans, text, piece_start, newline)
        piece_start = newline + 1
    _append(spans, text, piece_start, end)
    return spans


def word_spans(text: str, start: int, end: int) -> list[Span]:
    """Split `text[start:end]` into whitespace-separated words."""
    return [match.span() for match in _WORD.finditer(text, start, end)]


def token_runs(
    text: str, start: int, end: int, encoding: tiktoken.Encoding
) -> list[tuple[int, int, int]]:
    """Split `text[start:end]` at cl100k token boundaries: `(start, end, tokens)` triples.

    A token may end inside a multi-byte character (emoji, rare CJK); such a boundary is
    skipped, so a run can hold several tokens but never half a character. Whitespace
    at either end of a run is left out of its span (its tokens still count).
    """
    piece = text[start:end]
    char_at_byte: dict[int, int] = {}
    byte_offset = 0
    for index, char in enumerate(piece):
        char_at_byte[byte_offset] = index
        byte_offset += len(char.encode("utf-8"))
    char_at_byte[byte_offset] = len(piece)
    runs: list[tuple[int, int, int]] = []
    byte_offset, run_start, run_tokens = 0, 0, 0
    for token in encoding.encode_ordinary(piece):
        byte_offset += len(encoding.decode_single_token_bytes(token))
        run_tokens += 1
        cut = char_at_byte.get(byte_offset)
        if cut is not None and cut > run_start:
            span = strip_span(text, start + run_start, start + cut)
            if span is not None:
                runs.append((*span, run_tokens))
            run_start, run_tokens = cut, 0
    return runs


def _append(spans: list[Span], text: str, start: int, end: int) -> None:
    span = strip_span(text, start, end)
    if span is not None:
        spans.append(span)


def _ends_sentence(text: str, match: re.Match[str], limit: int) -> bool:
    """Whether the terminal punctuation `match` really ends a sentence."""
    following = _NON_SPACE.search(text, match.end(), limit)
    if following is not None and following.group().islower():
        return False  # sentences do not start lower-case: "approx. five", "Yahoo! is"
    if match.group()[0] != ".":
        return True
    dot = match.start()
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip(_OPENERS)
    if word.lower() in _ABBREVIATIONS or _DOTTED_ACRONYM.fullmatch(word):
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. Smith"
    at_line_start = word_start == 0 or text[word_start - 1] == "\n"
    # A number opening a line is a list item ("1. Install"), not a sentence.
    return not (word.isdigit() and len(word) <= 3 and at_line_start)
