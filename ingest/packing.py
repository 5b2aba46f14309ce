"""Packing one section's sentences into token-budgeted chunk spans (used by `Chunker`).

A `Run` is one heading path's worth of `Atom`s: sentence spans with a cl100k token
estimate and the strength of the boundary before them. `Packer.pack()` fills chunks
greedily, cuts at the strongest boundary that keeps a chunk at least half full, checks
each candidate span with the real encoder (and the model window), refines a sentence
into lines, words, token runs (and, for a token wider than the model window,
characters) only when it cannot fit alone, carries a
sentence-aligned overlap into the next chunk and folds a tiny last chunk back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import tiktoken

from ingest.sentences import line_spans, token_runs, word_spans
from ingest.window import ModelWindow

MIN_FILL = 0.5  # a cut at a weaker boundary is preferred over a chunk less than half full
FRAGMENT_SHARE = 0.25  # a last chunk below this share of max_tokens is folded back


class Level(IntEnum):
    """Strength of a boundary (lower is stronger) and the grain of an atom."""

    RUN = 0
    PAGE = 1
    BLOCK = 2
    SENTENCE = 3
    LINE = 4
    WORD = 5
    TOKEN = 6
    CHARACTER = 7  # only when one cl100k token is more than the model window can take


@dataclass(slots=True)
class Atom:
    """A span no chunk boundary falls inside; `lead` is where the whitespace before it starts."""

    start: int
    end: int
    lead: int
    tokens: int
    level: Level
    grain: Level
    title: bool
    page: int | None
    row: bool = False  # of a table row (spreadsheet, JSON array), overlapped only whole


@dataclass(frozen=True)
class Run:
    """The atoms under one heading path and the embedding prefix that path adds."""

    section: tuple[str, ...]
    prefix: str
    prefix_tokens: int
    atoms: list[Atom]
    title: str | None = None  # the document title the prefix carries, if any


@dataclass(frozen=True)
class Piece:
    """One chunk span: offsets, cl100k tokens of the span, and its starting page."""

    start: int
    end: int
    tokens: int
    page: int | None


class Packer:
    """Packs one `Run` (see the module docstring); single use."""

    def __init__(
        self,
        text: str,
        run: Run,
        max_tokens: int,
        overlap_tokens: int,
        encoding: tiktoken.Encoding,
        window: ModelWindow | None,
    ) -> None:
        self.text = text
        self.run = run
        self.atoms = list(run.atoms)
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.encoding = encoding
        self.window = window
        self.budget = max_tokens - run.prefix_tokens

    def pack(self) -> list[Piece]:
        """Chunk spans of the run, in order."""
        atoms, pieces = self.atoms, []
        carry: Piece | None = None  # the overlap the next chunk starts with
        i = 0
        while i < len(atoms):
            atom = atoms[i]
            # The estimate counts the whitespace before the atom: confirm before splitting.
            oversized = atom.tokens > self.budget and self._measure(atom.start, atom.end) is None
            if oversized and self._refine(i):
                continue
            carried = carry.tokens if carry else 0
            if carry and atom.tokens > self.budget - carried:
                carry = None
                continue
            start = carry.start if carry else atom.start
            fitted = self._fit(start, i, carried)
            if fitted is None:
                if carry:
                    carry = None
                    continue
                if self._refine(i):
                    continue
                # A single character that does not fit cannot be split any further.
                fitted = i + 1, len(self.encoding.encode_ordinary(self.text[start : atom.end]))
            cut, tokens = fitted
            if carry and cut < len(atoms) and all(a.title for a in atoms[i:cut]):
                carry = None  # a heading must lead into its text, not end a chunk
                continue
            pieces.append(
                Piece(start, atoms[cut - 1].end, tokens, carry.page if carry else atom.page)
            )
            carry = self._overlap(start, i, cut) if cut < len(atoms) else None
            i = cut
        return self._fold_tail(pieces)

    def _fit(self, start: int, i: int, carried: int) -> tuple[int, int] | None:
        """The chosen cut after atom `i` and the span's token count, or None if nothing fits."""
        atoms, room = self.atoms, self.budget - carried
        fills, total, j = [], 0, i
        while j < len(atoms) and (j == i or total + atoms[j].tokens <= room):
            total += atoms[j].tokens
            fills.append(total + carried)
            j += 1
        cut = self._choose_cut(i, j, fills)
        tokens = self._measure(start, atoms[cut - 1].end)
        if tokens is not None:
            return cut, tokens
        # The estimate was optimistic (or the model counts more): largest prefix that fits.
        low, low_tokens, high = i, 0, cut
        while high - low > 1:
            mid = (low + high) // 2
            measured = self._measure(start, atoms[mid - 1].end)
            if measured is None:
                high = mid
            else:
                low, low_tokens = mid, measured
        if low == i:
            return None
        better = self._choose_cut(i, low, fills)
        if better != low and (measured := self._measure(start, atoms[better - 1].end)) is not None:
            return better, measured
        return low, low_tokens

    def _choose_cut(self, i: int, j: int, fills: list[int]) -> int:
        """Best end (exclusive atom index) in `(i, j]`: no heading last, half full, strongest."""
        atoms = self.atoms
        if j == len(atoms):
            return j
        best, best_key = j, (True, True, Level.TOKEN)
        for cut in range(i + 1, j + 1):
            key = (
                atoms[cut - 1].title,
                fills[cut - i - 1] < self.budget * MIN_FILL,
                atoms[cut].level,
            )
            if key <= best_key:
                best, best_key = cut, key
        return best

    def _measure(self, start: int, end: int) -> int | None:
        """cl100k tokens of `text[start:end]` if its embedding text fits both budgets."""
        span = self.text[start:end]
        tokens = len(self.encoding.encode_ordinary(span))
        if tokens + self.run.prefix_tokens > self.max_tokens:
            return None
        if (
            self.window is not None
            and self.window.count(self.run.prefix + span) > self.window.limit
        ):
            return None
        return tokens

    def _overlap(self, start: int, i: int, cut: int) -> Piece | None:
        """The tail of chunk `[start, atoms[cut-1].end)` to repeat: whole sentences if any fit.

        A chunk that ends in a table row (`ROW` blocks: spreadsheet rows, JSON array
        elements) repeats whole rows or nothing: a row's last words name no row.
        """
        if self.overlap_tokens == 0:
            return None
        atoms, end = self.atoms, self.atoms[cut - 1].end
        rows = atoms[cut - 1].row
        whole = Level.BLOCK if rows else Level.SENTENCE
        aligned: list[tuple[int, int | None]] = []
        loose: list[tuple[int, int | None]] = []
        total, k = 0, cut - 1
        while k >= i and atoms[k].start > start:
            total += atoms[k].tokens
            if total > self.overlap_tokens:
                break
            (aligned if atoms[k].level <= whole else loose).append((atoms[k].start, atoms[k].page))
            k -= 1
        carry = self._first_within_overlap(aligned[::-1], end)
        if rows:
            return carry
        carry = carry or self._first_within_overlap(loose[::-1], end)
        if carry is None:  # even the last sentence is too long: repeat its last words
            last = atoms[cut - 1]
            words = word_spans(self.text, last.start, end)[1:]
            carry = self._first_within_overlap([(s, last.page) for s, _ in words], end)
        return carry

    def _first_within_overlap(
        self, candidates: list[tuple[int, int | None]], end: int
    ) -> Piece | None:
        """The longest overlap among `candidates` (longest first) that really fits."""
        low, high, found = -1, len(candidates), None
        while high - low > 1:  # overlap shrinks as the index grows: binary search
            mid = (low + high) // 2
            start, page = candidates[mid]
            tokens = len(self.encoding.encode_ordinary(self.text[start:end]))
            if tokens <= self.overlap_tokens:
                high, found = mid, Piece(start, end, tokens, page)
            else:
                low = mid
        return found

    def _refine(self, i: int) -> bool:
        """Replace atom `i` by finer atoms (lines, words, tokens, characters); False if none."""
        atom, text, encode = self.atoms[i], self.text, self.encoding.encode_ordinary
        for grain in (Level.LINE, Level.WORD, Level.TOKEN, Level.CHARACTER):
            if grain <= atom.grain:
                continue
            if grain == Level.TOKEN:
                runs = token_runs(text, atom.start, atom.end, self.encoding)
            elif grain == Level.CHARACTER:
                runs = [(k, k + 1, 1) for k in range(atom.start, atom.end) if not text[k].isspace()]
            else:
                split = line_spans if grain == Level.LINE else word_spans
                spans = split(text, atom.start, atom.end)
                leads = [atom.lead] + [end for _, end in spans[:-1]]
                runs = [
                    (s, e, len(encode(text[lead:e])))
                    for (s, e), lead in zip(spans, leads, strict=True)
                ]
            if len(runs) < 2:
                continue
            self.atoms[i : i + 1] = [
                Atom(
                    s,
                    e,
                    lead,
                    tokens,
                    atom.level if n == 0 else grain,
                    grain,
                    atom.title,
                    atom.page,
                    atom.row,
                )
                for n, ((s, e, tokens), lead) in enumerate(
                    zip(runs, [atom.lead] + [r[1] for r in runs[:-1]], strict=True)
                )
            ]
            return True
        return False

    def _fold_tail(self, pieces: list[Piece]) -> list[Piece]:
        """Merge a last chunk under FRAGMENT_SHARE of max_tokens into the one before it."""
        if len(pieces) < 2 or pieces[-1].tokens >= self.max_tokens * FRAGMENT_SHARE:
            return pieces
        previous, last = pieces[-2], pieces[-1]
        tokens = self._measure(previous.start, last.end)
        if tokens is None:
            return pieces
        return [*pieces[:-2], Piece(previous.start, last.end, tokens, previous.page)]
