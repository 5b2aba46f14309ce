"""Text recognition (OCR) of page images with the Tesseract program.

`recognise(image, page_number=..., name=...)` runs Debian's `tesseract` (with the
`eng` language data) on one page image and returns its paragraphs as `Piece`s on that
page. Tesseract's TSV output gives every word with its block, paragraph and line; a
paragraph's lines are joined (a word hyphenated at a line end is rejoined), and a
paragraph of one short line set clearly larger than the page's body lines (by the
average width of its characters) becomes a title. Paragraphs without a letter or digit (specks, rules, the edges of a drawing)
are dropped.

Tesseract runs as a child of the parser process: it inherits the process's
address-space cap, and it is killed with it (Linux `PR_SET_PDEATHSIG`) when the
parser is killed for taking too long, so a hung or slow recognition never outlives
its parse. It runs single-threaded (`OMP_THREAD_LIMIT=1`): every parser process is
one worker's, and Debian's Tesseract is built with OpenMP, whose spinning threads
cost several times the CPU (a 300-dpi page: 0.4 CPU-seconds alone, 1.5 to 3.7 with two
threads on a busy 2-core machine).

`OcrLimits` bounds what one document may ask of it (`images.py`, `scanned_pages.py`).

Failure modes: `OcrUnavailable` (an `UnsupportedFileType`) when the program or its
English data is not installed, naming what to install; `CorruptDocument` when
Tesseract cannot read the image.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import shutil
import signal
import statistics
import subprocess
from dataclasses import dataclass
from typing import Any

from ingest.errors import CorruptDocument, OcrUnavailable
from ingest.normalise import TEXT, TITLE, Piece

LANGUAGE = "eng"
INSTALL_HINT = "scripts/setup.sh installs it: apt-get install tesseract-ocr tesseract-ocr-eng"
_TITLE_SIZE_RATIO = 1.25
_TITLE_MAX_WORDS = 12
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class OcrLimits:
    """How much text recognition one document may ask for.

    `max_image_pixels` bounds one decoded image or TIFF frame (width x height);
    `pdf_dpi` is the resolution PDF pages without text are rendered at (lowered for a
    page so large that it would pass `max_image_pixels`).
    """

    max_image_pixels: int = 50_000_000
    pdf_dpi: int = 300

    def __post_init__(self) -> None:
        if self.max_image_pixels < 1 or not 72 <= self.pdf_dpi <= 1200:
            raise ValueError(f"OCR limits out of range: {self}")


@dataclass
class _Line:
    words: list[str]
    width: int = 0  # of its words' boxes, summed

    @property
    def glyph_width(self) -> float:
        """Average width of a character: the font size, unlike a box's height, does not
        depend on which letters reach below the line."""
        return self.width / max(1, sum(len(word) for word in self.words))


def tesseract_available() -> bool:
    """Is the `tesseract` program on PATH? (Its language data is checked when it runs.)"""
    return shutil.which("tesseract") is not None


def require_tesseract(name: str, what: str) -> None:
    """Raise `OcrUnavailable` for `name` (whose `what` needs OCR) if tesseract is missing."""
    if not tesseract_available():
        raise OcrUnavailable(
            f"{name}: {what} needs text recognition (OCR), but the tesseract program is not "
            f"installed on this server ({INSTALL_HINT})."
        )


def recognise(image: Any, *, page_number: int, name: str, dpi: int | None = None) -> list[Piece]:
    """The paragraphs Tesseract reads on `image` (a Pillow image) as pieces of `page_number`.

    `dpi` is the resolution a PDF page was rendered at, or the one an image file
    declares; without it Tesseract estimates it from the text.
    """
    require_tesseract(name, f"page {page_number}")
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)  # fast: the bytes only cross a pipe
    resolution = ["--dpi", str(dpi)] if dpi else []
    completed = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", LANGUAGE, *resolution, "tsv"],
        input=png.getvalue(),
        capture_output=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        preexec_fn=_die_with_parser,
        check=False,
    )
    if completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace")
        if "Failed loading language" in error or "Error opening data file" in error:
            raise OcrUnavailable(
                f"{name}: text recognition needs Tesseract's English language data, which "
                f"is not installed on this server ({INSTALL_HINT})."
            )
        raise CorruptDocument(f"{name}: text recognition could not read page {page_number}.")
    return _pieces(completed.stdout.decode("utf-8", "replace"), page_number)


# Resolved before any fork: the child runs only this call between fork and exec.
_PRCTL: Any = None
with contextlib.suppress(OSError, AttributeError):
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parser() -> None:
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _pieces(tsv: str, page_number: int) -> list[Piece]:
    """Tesseract's TSV (one row per word) to pieces, paragraph by paragraph."""
    paragraphs: dict[tuple[int, int], dict[int, _Line]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue  # level 5 rows are words; the others are page/block/paragraph/line boxes
        block, par, line, width = int(cells[2]), int(cells[3]), int(cells[4]), int(cells[8])
        current = paragraphs.setdefault((block, par), {}).setdefault(line, _Line([]))
        current.words.append(cells[11].strip())
        current.width += width
    all_lines = [line for lines in paragraphs.values() for line in lines.values()]
    if not all_lines:
        return []
    body_glyph = statistics.median(line.glyph_width for line in all_lines)
    pieces = []
    for lines in paragraphs.values():
        text = _join_lines([line.words for line in lines.values()])
        if not any(ch.isalnum() for ch in text):
            continue
        only = next(iter(lines.values())) if len(lines) == 1 else None
        is_title = (
            only is not None
            and len(only.words) <= _TITLE_MAX_WORDS
            and only.glyph_width >= _TITLE_SIZE_RATIO * body_glyph
        )
        if is_title:
            pieces.append(Piece(text, TITLE, page_number=page_number, level=1))
        else:
            pieces.append(Piece(text, TEXT, page_number=page_number))
    return pieces


def _join_lines(lines: list[list[str]]) -> str:
    """Words of a paragraph's lines as one text; `docu-` + `ment` across a break is rejoined."""
    text = ""
    for words in lines:
        line = " ".join(words)
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text
