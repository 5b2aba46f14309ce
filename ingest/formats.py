"""Decide what an uploaded file really is, and decode text files safely.

Detection trusts content over names: magic bytes identify PDF and Office Open XML
(DOCX/PPTX) even when the extension lies, and known binary formats are refused even
when named `.txt`. Among text formats (HTML, Markdown, plain text) the extension and
media type decide, except that a text file that opens like an HTML page is HTML.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from ingest.errors import CorruptDocument, EmptyDocument, UnsupportedFileType

PDF, DOCX, PPTX, HTML, MARKDOWN, TEXT = "pdf", "docx", "pptx", "html", "markdown", "text"

_EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".pptx": PPTX,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".text": TEXT,
}
_MEDIA_TYPES = {
    "application/pdf": PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": PPTX,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "text/markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "text/plain": TEXT,
}
_LABELS = {
    PDF: "PDF",
    DOCX: "Word (.docx)",
    PPTX: "PowerPoint (.pptx)",
    HTML: "HTML",
    MARKDOWN: "Markdown",
    TEXT: "text",
}
SUPPORTED_SENTENCE = "Supported formats are PDF, DOCX, PPTX, HTML, Markdown and plain text."

# Binary signatures we recognise only to refuse them with a helpful name.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.ppt/.xls)"),
    (b"{\\rtf", "an RTF document"),
)
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def label(fmt: str) -> str:
    """Human name of a detected format, for messages."""
    return _LABELS.get(fmt, fmt)


def format_for_name(filename: str) -> str | None:
    """The format a file's extension promises, if it is one we support."""
    return _EXTENSIONS.get(PurePath(filename).suffix.lower())


def _zip_kind(content: bytes) -> str | None:
    """ "docx", "pptx", "zip" for other archives, None if the zip cannot be opened."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "ppt/presentation.xml" in names:
        return PPTX
    return "zip"


def detect_format(filename: str, content: bytes, media_type: str | None = None) -> str:
    """Return one of pdf, docx, pptx, html, markdown, text for an upload.

    Raises EmptyDocument for empty or whitespace-only bytes, CorruptDocument when the
    name promises PDF/DOCX/PPTX but the bytes are something else, and
    UnsupportedFileType for anything we do not read.
    """
    name = PurePath(filename).name or "The file"
    if not content.strip():
        raise EmptyDocument(f"{name} is empty.")
    ext = PurePath(filename).suffix.lower()
    by_name = _EXTENSIONS.get(ext)
    mime = (media_type or "").split(";")[0].strip().lower()
    claimed = by_name or _MEDIA_TYPES.get(mime)

    head = content[:1024]
    if b"%PDF-" in head:
        return PDF
    if content.startswith(b"PK\x03\x04"):
        kind = _zip_kind(content)
        if kind in (DOCX, PPTX):
            return kind
        if claimed in (DOCX, PPTX):
            raise CorruptDocument(
                f"{name} is not a valid {label(claimed)} file; it may be damaged or "
                "saved in another format."
            )
        raise UnsupportedFileType(f"{name} is a zip archive. {SUPPORTED_SENTENCE}")
    for signature, what in _BINARY_SIGNATURES:
        if content.startswith(signature):
            raise UnsupportedFileType(f"{name} looks like {what}. {SUPPORTED_SENTENCE}")
    if claimed in (PDF, DOCX, PPTX):
        raise CorruptDocument(
            f"{name} is not a valid {label(claimed)} file; it may be damaged or saved "
            "in another format."
        )
    if by_name is None and ext and not mime.startswith("text/"):
        kind = ext.lstrip(".")
        raise UnsupportedFileType(f"{name}: .{kind} files are not supported. {SUPPORTED_SENTENCE}")
    if _HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")):
        return HTML
    return claimed or TEXT


@dataclass(frozen=True)
class DecodedText:
    """Text of a text-family file and the encoding it was read with."""

    text: str
    encoding: str


def _bad_char_ratio(text: str) -> float:
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    )
    return bad / max(len(text), 1)


def decode_text(content: bytes, filename: str = "") -> DecodedText:
    """Decode a text file: BOM, then UTF-8, then charset detection, then cp1252/latin-1.

    Raises CorruptDocument when the bytes are binary data rather than text (NUL bytes,
    or a high share of control characters after decoding).
    """
    name = PurePath(filename).name or "The file"
    not_text = CorruptDocument(f"{name} contains binary data, not readable text.")
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            try:
                text = content[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise not_text from None
            return _checked(DecodedText(text, encoding), not_text)
    if b"\x00" in content:
        raise not_text
    try:
        return _checked(DecodedText(content.decode("utf-8"), "utf-8"), not_text)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is not None and best.encoding not in ("utf_8", "ascii"):
        decoded = DecodedText(str(best), best.encoding)
        if _bad_char_ratio(decoded.text) <= 0.01:
            return decoded
    for encoding in ("cp1252", "latin-1"):
        try:
            return _checked(DecodedText(content.decode(encoding), encoding), not_text)
        except UnicodeDecodeError:
            continue
    raise not_text  # unreachable: latin-1 decodes any byte string


def _checked(decoded: DecodedText, error: CorruptDocument) -> DecodedText:
    if _bad_char_ratio(decoded.text) > 0.01:
        raise error
    return decoded
