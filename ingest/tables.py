"""Spreadsheets (CSV, TSV, XLSX): one piece per row that repeats the header names.

The first non-empty row of a sheet is its header; every later row becomes the text

    Row 7: Region: EMEA; Revenue: 1.2M; Owner: Ines

(empty cells left out, a blank header named after its column letter, "Column C"), so a
question about one row finds that row, and the cited span names its row number as the
spreadsheet shows it (the header is row 1 of a CSV). XLSX sheets are headings (a
chunk's heading path is its sheet; chunks never span two sheets); a CSV has none.
The chunker packs consecutive rows up to its budget and cuts between rows, so a
chunk is a run of rows, from the first `Row N:` in it to the last.

Failure modes: `CorruptDocument` for CSV the reader refuses (a field over
`MAX_FIELD_CHARS`, a stray quote at the end of the file) or a workbook openpyxl
cannot open; a file without data rows yields no pieces (the extractor reports it as
empty).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ingest.errors import CorruptDocument
from ingest.normalise import ROW, TITLE, Piece, normalise_text
from ingest.partitioners import Partitioned

logger = logging.getLogger(__name__)

MAX_FIELD_CHARS = 1_000_000
_DELIMITERS = ",;\t|"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def row_pieces(rows: Iterable[tuple[int, Sequence[Any]]]) -> list[Piece]:
    """Pieces of (row number, cells) pairs; the first non-empty row is the header."""
    header: list[str] | None = None
    pieces: list[Piece] = []
    for number, raw in rows:
        cells = [_cell(value) for value in raw]
        if not any(cells):
            continue
        if header is None:
            header = [c or f"Column {column_letter(i)}" for i, c in enumerate(cells)]
            continue
        pairs = [
            f"{header[i] if i < len(header) else f'Column {column_letter(i)}'}: {cell}"
            for i, cell in enumerate(cells)
            if cell
        ]
        pieces.append(Piece(f"Row {number}: " + "; ".join(pairs), ROW))
    return pieces


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel


def partition_csv_text(text: str, name: str) -> Partitioned:
    """CSV or TSV text (delimiter sniffed); rows numbered from the header's 1."""
    # strict: a quote left open at the end of the file is an error, not one huge cell
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:65536]), strict=True)
    previous = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        rows = list(enumerate(reader, start=1))
    except csv.Error as exc:
        raise CorruptDocument(
            f"{name} is not readable CSV near line {reader.line_num} ({exc})."
        ) from None
    finally:
        csv.field_size_limit(previous)
    return Partitioned(
        row_pieces(rows), headings_are_titles=False, metadata={"row_count": len(rows)}
    )


def partition_xlsx_bytes(data: bytes, name: str) -> Partitioned:
    """An Excel workbook: each sheet a heading, its rows as in `row_pieces` (cell values,
    not formulas: the values Excel saved)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        logger.info("openpyxl could not open %s: %r", name, exc)
        raise CorruptDocument(f"{name} is not a readable Excel workbook.") from None
    pieces: list[Piece] = []
    sheets: list[str] = []
    try:
        for sheet in workbook.worksheets:
            # the dimension a file declares is not trusted: an "A1:XFD1048576" sheet
            # would otherwise be padded to a billion empty cells
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()
            rows = row_pieces(enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
            if rows:
                sheets.append(normalise_text(sheet.title))
                pieces.append(Piece(sheet.title, TITLE, level=1))
                pieces.extend(rows)
        title = workbook.properties.title or None
    finally:
        workbook.close()
    return Partitioned(pieces, title, {"sheets": sheets}, headings_are_titles=False)
