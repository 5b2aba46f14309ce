"""Extraction stage: uploaded bytes (or a JSON text record) to an `ExtractedDocument`.

`Extractor` is the pipeline component for files; `extract_text_record` handles the
JSON `{text, title?}` records that the API accepts without a file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import PurePath

from ingest import formats
from ingest.archives import ArchiveLimits, check_archive
from ingest.code import partition_code_text
from ingest.documents import ExtractedDocument, SourceFile
from ingest.email_files import partition_email_bytes
from ingest.errors import CorruptDocument, DocumentTooLarge, EmptyDocument, IngestError
from ingest.images import partition_image_bytes
from ingest.json_text import partition_json_text, partition_jsonl_text
from ingest.msg_files import partition_msg_bytes
from ingest.nlp_setup import configure_offline_nlp, load_spacy_model
from ingest.normalise import TITLE, assemble, normalise_text, plain_text_pieces
from ingest.ocr import OcrLimits
from ingest.pandoc_formats import PANDOC_FORMATS, partition_with_pandoc
from ingest.partitioners import (
    Partitioned,
    partition_docx_bytes,
    partition_html_text,
    partition_markdown_text,
    partition_pdf_bytes,
    partition_pptx_bytes,
)
from ingest.tables import partition_csv_text, partition_xlsx_bytes

logger = logging.getLogger(__name__)

SUPPORTED_PDF_STRATEGIES = ("fast",)


class Extractor:
    """Turn an uploaded file into one normalised text plus `TextBlock`s.

    Input: a `SourceFile` (filename, bytes, optional media type). The real type is
    detected from content first (PDF and Office magic bytes, HTML and JSON structure
    win over a lying extension: `formats.py`), then from the name. Output: an
    `ExtractedDocument` whose blocks carry page numbers (PDF pages, PPTX slides, image
    frames) and heading paths (document headings, spreadsheet sheets, JSON paths), with
    `text[block.char_start:block.char_end]` equal to each element's normalised text.
    PDF pages without a text layer and images are read by Tesseract (`ocr.py`) within
    `ocr_limits`; the metadata's `ocr_pages` lists the pages read that way.

    Failure modes: every problem with the file raises an `ingest.errors.IngestError`
    subclass (`UnsupportedFileType`/`OcrUnavailable`, `EmptyDocument`/`NoTextLayer`,
    `CorruptDocument`, `ProtectedDocument`, `DocumentTooLarge`/`ImageTooLarge`) with a
    message fit for end users. DOCX, PPTX, XLSX, ODT and EPUB archives are checked
    against `archive_limits` before they are parsed (`archives.py`).
    """

    def __init__(
        self,
        *,
        pdf_strategy: str = "fast",
        max_pages: int = 500,
        archive_limits: ArchiveLimits | None = None,
        ocr_limits: OcrLimits | None = None,
    ) -> None:
        if pdf_strategy not in SUPPORTED_PDF_STRATEGIES:
            raise ValueError(
                f"PDF strategy {pdf_strategy!r} is not supported: only 'fast' (the PDF's "
                "text layer, with Tesseract for pages without one) works offline; "
                "'hi_res' and 'auto' need a layout model that cannot be downloaded here."
            )
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages}.")
        self.pdf_strategy = pdf_strategy
        self.max_pages = max_pages
        self.archive_limits = archive_limits or ArchiveLimits()
        self.ocr_limits = ocr_limits or OcrLimits()
        self._warm = False
        self._warm_lock = threading.Lock()

    def warm_up(self) -> None:
        """Configure offline NLP, import unstructured's partitioners, load spaCy."""
        with self._warm_lock:
            if self._warm:
                return
            configure_offline_nlp()
            import openpyxl  # noqa: F401
            import oxmsg  # noqa: F401
            import PIL.Image  # noqa: F401
            import pypdfium2  # noqa: F401
            import unstructured.partition.docx
            import unstructured.partition.html
            import unstructured.partition.md
            import unstructured.partition.pdf
            import unstructured.partition.pptx  # noqa: F401

            load_spacy_model()
            self._warm = True

    def run(self, source: SourceFile) -> ExtractedDocument:
        """Extract `source`; raises an IngestError subclass when it cannot be read."""
        self.warm_up()
        name = PurePath(source.filename).name or "The file"
        fmt = formats.detect_format(source.filename, source.content, source.media_type)
        metadata: dict[str, object] = {"filename": source.filename, "format": fmt}
        named_as = formats.format_for_name(source.filename)
        if named_as is not None and named_as != fmt:
            metadata["named_as"] = named_as
        partitioned = self._partition(fmt, source.content, name, metadata)
        pages = partitioned.metadata.get("page_count")
        if isinstance(pages, int) and pages > self.max_pages:
            raise DocumentTooLarge(f"{name} has {pages} pages; the limit is {self.max_pages}.")
        text, blocks = assemble(partitioned.pieces)
        if not blocks:
            raise EmptyDocument(f"{name} contains no text.")
        first_title = next(
            (text[b.char_start : b.char_end] for b in blocks if b.kind == TITLE), None
        )
        if not partitioned.headings_are_titles:
            first_title = None
        declared = normalise_text(partitioned.declared_title or "")
        title = first_title or declared or PurePath(source.filename).stem or None
        metadata.update(partitioned.metadata)
        return ExtractedDocument(
            text=text,
            blocks=blocks,
            source_type=fmt,
            title=title,
            metadata=metadata,
        )

    def _partition(
        self, fmt: str, content: bytes, name: str, metadata: dict[str, object]
    ) -> Partitioned:
        if fmt in (formats.PDF, formats.IMAGE):
            paged = partition_pdf_bytes if fmt == formats.PDF else partition_image_bytes
            return _guarded(
                name,
                fmt,
                lambda: paged(content, name, max_pages=self.max_pages, ocr=self.ocr_limits),
            )
        if fmt == formats.EMAIL:
            return _guarded(name, fmt, lambda: partition_email_bytes(content, name))
        if fmt == formats.MSG:
            return _guarded(name, fmt, lambda: partition_msg_bytes(content, name))
        if fmt in PANDOC_FORMATS:
            data = content
            if fmt in (formats.ODT, formats.EPUB):
                check_archive(content, name, self.archive_limits)
            elif fmt == formats.RST:  # pandoc reads UTF-8
                data = formats.decode_text(content, name).text.encode()
            return _guarded(name, fmt, lambda: partition_with_pandoc(fmt, data, name))
        if fmt in (formats.DOCX, formats.PPTX, formats.XLSX):
            check_archive(content, name, self.archive_limits)  # Office files are zip archives
            return _guarded(name, fmt, lambda: _ARCHIVE_PARTITIONERS[fmt](content, name))
        decoded = formats.decode_text(content, name)
        metadata["encoding"] = decoded.encoding
        if not decoded.text.strip():
            raise EmptyDocument(f"{name} contains only whitespace.")
        return _guarded(name, fmt, lambda: _TEXT_PARTITIONERS[fmt](decoded.text, name))


# Partitioners of text-family formats: decoded text and file name in, pieces out.
_TEXT_PARTITIONERS: dict[str, Callable[[str, str], Partitioned]] = {
    formats.TEXT: lambda text, _name: Partitioned(plain_text_pieces(text)),
    formats.HTML: lambda text, _name: partition_html_text(text),
    formats.MARKDOWN: lambda text, _name: partition_markdown_text(text),
    formats.JSON: partition_json_text,
    formats.JSONL: partition_jsonl_text,
    formats.CSV: partition_csv_text,
    formats.CODE: partition_code_text,
}
_ARCHIVE_PARTITIONERS: dict[str, Callable[[bytes, str], Partitioned]] = {
    formats.DOCX: lambda data, _name: partition_docx_bytes(data),
    formats.PPTX: lambda data, _name: partition_pptx_bytes(data),
    formats.XLSX: partition_xlsx_bytes,
}


def _guarded(name: str, fmt: str, partition: Callable[[], Partitioned]) -> Partitioned:
    """Run a partitioner; library failures become a CorruptDocument for the user."""
    try:
        return partition()
    except IngestError:
        raise
    except Exception as exc:
        logger.info("could not partition %s as %s: %r", name, fmt, exc)
        raise CorruptDocument(
            f"{name} could not be read as a {formats.label(fmt)} file; it may be damaged."
        ) from exc


def extract_text_record(text: str, title: str | None = None) -> ExtractedDocument:
    """Extract a JSON text record (plain text); raises EmptyDocument for blank text.

    The record's own `title` wins; otherwise the first heading-like line, if any.
    """
    text_, blocks = assemble(plain_text_pieces(text))
    if not blocks:
        raise EmptyDocument("The text record is empty.")
    first_title = next((text_[b.char_start : b.char_end] for b in blocks if b.kind == TITLE), None)
    clean_title = normalise_text(title) if title else None
    return ExtractedDocument(
        text=text_,
        blocks=blocks,
        source_type="json",
        title=clean_title or first_title,
        metadata={},
    )
