"""Per-format calls into unstructured, and the mapping of its elements to `Piece`s.

Each `partition_*` function takes bytes or decoded text and returns a `Partitioned`
(pieces plus the title and metadata the format itself declares). unstructured is
imported lazily, after `ingest.nlp_setup.configure_offline_nlp()` has run.

Quirks handled here:
- PDF text layers are read with strategy "fast" (pdfminer) only. With "fast",
  unstructured never escalates to hi_res/OCR, but it swallows parse errors and returns
  no elements, so a pdfminer pre-check tells a damaged or password-protected file from
  a scan. Pages that yield no text are then read by Tesseract (`scanned_pages.py`),
  page by page, and the document's metadata lists them (`ocr_pages`).
- In fast PDFs, unstructured labels any element in the top/bottom 7% of a page as
  Header/Footer, which catches real headings on pages with small margins. Only
  running headers/footers (repeated on several pages, digits ignored) and page
  numbers are dropped; others are kept as content.
- PPTX body paragraphs that look like titles come back as Title with depth >= 1; only
  the slide title (depth 0) starts a section.
"""

from __future__ import annotations

import html
import io
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import CorruptDocument, DocumentTooLarge, NoTextLayer, ProtectedDocument
from ingest.normalise import LIST_ITEM, TABLE, TEXT, TITLE, Piece
from ingest.ocr import OcrLimits
from ingest.scanned_pages import recognise_pages

logger = logging.getLogger(__name__)

_DROPPED = {"PageBreak", "PageNumber", "Image", "Header", "Footer"}
_KEEP_LINES = {"CodeSnippet", "Formula"}
# unstructured detects each element's language by default (a quarter of the parse time
# of a Markdown file) only to record it in metadata we never read; naming the language
# skips detection. It changes no element text or type (unstructured does no OCR here).
_LANGUAGES = ["eng"]
_PAGE_LABEL = re.compile(r"^\W*(page\s*)?\d+(\s*(of|/)\s*\d+)?\W*$", re.I)


@dataclass
class Partitioned:
    """What a partitioner found: pieces, a declared title, format metadata.

    `headings_are_titles` is False for formats whose headings are locations (a JSON
    path, a sheet name), not the document's title: then the declared title or the
    file name is the title.
    """

    pieces: list[Piece]
    declared_title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    headings_are_titles: bool = True


def _piece(element: Any, kind: str, level: int | None = None) -> Piece:
    return Piece(
        text=element.text,
        kind=kind,
        page_number=element.metadata.page_number,
        level=level,
        keep_lines=element.category in _KEEP_LINES,
    )


def element_pieces(elements: Sequence[Any], *, slide_titles_only: bool = False) -> list[Piece]:
    """Map unstructured elements to pieces, dropping page furniture."""
    pieces: list[Piece] = []
    for element in elements:
        category = element.category
        if category in _DROPPED or not (element.text or "").strip():
            continue
        if category == "Title":
            depth = element.metadata.category_depth
            if slide_titles_only and depth not in (None, 0):
                pieces.append(_piece(element, TEXT))
            else:
                pieces.append(_piece(element, TITLE, level=(depth or 0) + 1))
        elif category == "ListItem":
            pieces.append(_piece(element, LIST_ITEM))
        elif category == "Table":
            pieces.append(_piece(element, TABLE))
        else:
            pieces.append(_piece(element, TEXT))
    return pieces


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _recover_pdf_margins(elements: Sequence[Any]) -> list[Any]:
    """Relabel top/bottom-of-page elements that are content, not running furniture."""
    from unstructured.documents.elements import NarrativeText, Title
    from unstructured.partition.text_type import is_possible_title

    pages_by_key: dict[str, set[int | None]] = defaultdict(set)
    for element in elements:
        if element.category in ("Header", "Footer"):
            pages_by_key[_running_key(element.text)].add(element.metadata.page_number)
    kept: list[Any] = []
    for element in elements:
        if element.category not in ("Header", "Footer"):
            kept.append(element)
            continue
        text = element.text.strip()
        if len(pages_by_key[_running_key(text)]) > 1 or _PAGE_LABEL.match(text):
            continue
        is_title = element.category == "Header" and is_possible_title(text)
        cls = Title if is_title else NarrativeText
        kept.append(cls(text=text, metadata=element.metadata))
    return kept


def _inspect_pdf(data: bytes, name: str) -> tuple[int, str | None]:
    """Page count and info-dictionary title; raises Corrupt/ProtectedDocument."""
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.utils import decode_text

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        pages = sum(1 for _ in PDFPage.create_pages(document))
    except PDFPasswordIncorrect:
        raise ProtectedDocument(
            f"{name} is password-protected; remove the password and upload it again."
        ) from None
    except Exception as exc:
        logger.info("pdfminer could not open %s: %r", name, exc)
        raise CorruptDocument(
            f"{name} is not a readable PDF; it may be damaged or incomplete."
        ) from exc
    if pages == 0:
        raise CorruptDocument(f"{name} is a PDF without any pages.")
    title = None
    for info in document.info:
        raw = info.get("Title")
        if isinstance(raw, bytes):
            title = decode_text(raw).strip() or None
        elif isinstance(raw, str):
            title = raw.strip() or None
    return pages, title


def partition_pdf_bytes(data: bytes, name: str, *, max_pages: int, ocr: OcrLimits) -> Partitioned:
    """Text-layer PDF extraction (pdfminer), then OCR of the pages left without text.

    Never a layout model: the text layer is read with strategy "fast", and only pages
    that yield no text at all are rendered and read by Tesseract.
    """
    pages, info_title = _inspect_pdf(data, name)
    if pages > max_pages:
        raise DocumentTooLarge(f"{name} has {pages} pages; the limit is {max_pages}.")
    from unstructured.partition.pdf import partition_pdf

    elements = partition_pdf(
        file=io.BytesIO(data),
        strategy="fast",  # never "auto"/"hi_res": those need a layout model
        infer_table_structure=False,
        extract_images_in_pdf=False,
        include_page_breaks=False,
        languages=_LANGUAGES,
    )
    pieces = element_pieces(_recover_pdf_margins(elements))
    with_text = {piece.page_number for piece in pieces}
    without_text = [number for number in range(1, pages + 1) if number not in with_text]
    metadata: dict[str, Any] = {"page_count": pages}
    if without_text:
        recognised, ocr_pages = recognise_pages(data, name, without_text, ocr)
        # stable: each page's pieces keep their order, pages come in order
        pieces = sorted([*pieces, *recognised], key=lambda piece: piece.page_number or 0)
        if ocr_pages:
            metadata["ocr_pages"] = ocr_pages
    if not pieces:
        raise NoTextLayer(
            f"{name}: PDF has no text layer, and text recognition (OCR) found no text on its pages."
        )
    return Partitioned(pieces, info_title, metadata)


def partition_docx_bytes(data: bytes) -> Partitioned:
    """Word document: headings (with levels), paragraphs, lists, tables."""
    import docx
    from unstructured.partition.docx import partition_docx

    elements = partition_docx(
        file=io.BytesIO(data), include_page_breaks=False, languages=_LANGUAGES
    )
    title = docx.Document(io.BytesIO(data)).core_properties.title or None
    return Partitioned(element_pieces(elements), title)


def partition_pptx_bytes(data: bytes) -> Partitioned:
    """PowerPoint: one page per slide, slide titles as the only headings."""
    import pptx
    from unstructured.partition.pptx import partition_pptx

    elements = partition_pptx(
        file=io.BytesIO(data), include_page_breaks=False, languages=_LANGUAGES
    )
    presentation = pptx.Presentation(io.BytesIO(data))
    return Partitioned(
        element_pieces(elements, slide_titles_only=True),
        presentation.core_properties.title or None,
        {"page_count": len(presentation.slides)},
    )


def partition_html_text(text: str) -> Partitioned:
    """HTML page: heading levels from h1-h6; nav/header/footer chrome is skipped."""
    from unstructured.partition.html import partition_html

    match = re.search(r"<title[^>]*>(.*?)</title\s*>", text, re.I | re.S)
    title = " ".join(html.unescape(match.group(1)).split()) if match else None
    return Partitioned(
        element_pieces(partition_html(text=text, languages=_LANGUAGES)), title or None
    )


def partition_markdown_text(text: str) -> Partitioned:
    """Markdown via unstructured (markdown -> HTML); '#' levels become heading levels."""
    from unstructured.partition.md import partition_md

    return Partitioned(element_pieces(partition_md(text=text, languages=_LANGUAGES)))
