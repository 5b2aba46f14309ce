"""Decide what an uploaded file really is: content first, then the name.

The bytes are sniffed in this order, and the first rule that matches decides:

| the bytes                                   | format                                   |
|---------------------------------------------|------------------------------------------|
| empty or whitespace only                    | `EmptyDocument`                          |
| `%PDF-` in the first KiB                    | PDF, whatever the name                   |
| PNG, JPEG or TIFF magic bytes               | image (read by OCR), whatever the name   |
| an OLE file holding a MAPI message          | Outlook message (`.msg`), whatever the name |
| a zip holding `word/`, `ppt/` or `xl/` parts | DOCX, PPTX or XLSX, whatever the name    |
| a zip that is an ODT (`mimetype`) or EPUB   | ODT or EPUB, whatever the name           |
| `{\\rtf` at the start                        | RTF, whatever the name                   |
| another zip or OLE file, or a known binary signature | `UnsupportedFileType` naming what it is |
| text that opens like an HTML page           | HTML, whatever the name                  |
| named as a binary format, text that parses as JSON | JSON                              |
| named as a binary format, anything else     | `CorruptDocument`                        |
| named `.json`, not one JSON value, but one per line | JSON Lines                       |
| named `.jsonl`, one JSON value over several lines | JSON                               |
| named text (or unnamed), a JSON object/array | JSON                                    |
| named `.vtt` or `.srt` (a transcript)       | `UnsupportedFileType`: import a meeting  |
| a known text-family name or media type      | that format                              |
| text without a known name, `text/*` type    | plain text                               |
| anything else                               | `UnsupportedFileType`                    |

Text files are decoded by `ingest.decoding` (re-exported here as `decode_text`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import PurePath

from ingest.decoding import DecodedText, decode_text
from ingest.errors import CorruptDocument, EmptyDocument, UnsupportedFileType

PDF, DOCX, PPTX, XLSX = "pdf", "docx", "pptx", "xlsx"
HTML, MARKDOWN, TEXT = "html", "markdown", "text"
JSON, JSONL, CSV, CODE, EMAIL = "json", "jsonl", "csv", "code", "email"
RST, RTF, ODT, EPUB = "rst", "rtf", "odt", "epub"  # read through pandoc
IMAGE, MSG = "image", "msg"  # PNG/JPEG/TIFF read by OCR; Outlook messages
BINARY_FORMATS = (PDF, DOCX, PPTX, XLSX, ODT, EPUB, IMAGE, MSG)

# Source code and configuration files, read as text (`ingest.code`).
_CODE_SUFFIXES = (
    ".py .pyi .js .mjs .cjs .jsx .ts .tsx .go .java .kt .kts .scala .rb .rs .c .h .cc .cpp "
    ".hpp .cs .php .swift .m .lua .pl .r .sh .bash .zsh .ps1 .sql .yaml .yml .toml .ini "
    ".cfg .conf .properties .xml .css .scss .proto .tf .gradle .graphql"
)
CODE_EXTENSIONS = frozenset(_CODE_SUFFIXES.split())
_EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".pptx": PPTX,
    ".xlsx": XLSX,
    ".xlsm": XLSX,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".text": TEXT,
    ".json": JSON,
    ".jsonl": JSONL,
    ".ndjson": JSONL,
    ".csv": CSV,
    ".tsv": CSV,
    ".eml": EMAIL,
    ".msg": MSG,
    ".png": IMAGE,
    ".jpg": IMAGE,
    ".jpeg": IMAGE,
    ".tif": IMAGE,
    ".tiff": IMAGE,
    ".rst": RST,
    ".rtf": RTF,
    ".odt": ODT,
    ".epub": EPUB,
    **dict.fromkeys(CODE_EXTENSIONS, CODE),
}
_MEDIA_TYPES = {
    "application/pdf": PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": PPTX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "text/markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "text/plain": TEXT,
    "application/json": JSON,
    "application/x-ndjson": JSONL,
    "application/jsonl": JSONL,
    "text/csv": CSV,
    "text/tab-separated-values": CSV,
    "message/rfc822": EMAIL,
    "application/vnd.ms-outlook": MSG,
    "image/png": IMAGE,
    "image/jpeg": IMAGE,
    "image/tiff": IMAGE,
    "text/x-rst": RST,
    "application/rtf": RTF,
    "text/rtf": RTF,
    "application/vnd.oasis.opendocument.text": ODT,
    "application/epub+zip": EPUB,
}
_LABELS = {
    PDF: "PDF",
    DOCX: "Word (.docx)",
    PPTX: "PowerPoint (.pptx)",
    XLSX: "Excel (.xlsx)",
    HTML: "HTML",
    MARKDOWN: "Markdown",
    TEXT: "text",
    JSON: "JSON",
    JSONL: "JSON Lines",
    CSV: "CSV",
    CODE: "source code",
    EMAIL: "email",
    MSG: "Outlook message (.msg)",
    IMAGE: "image",
    RST: "reStructuredText",
    RTF: "RTF",
    ODT: "OpenDocument text (.odt)",
    EPUB: "EPUB",
}
SUPPORTED_SENTENCE = (
    "Supported formats are PDF, DOCX, PPTX, XLSX, CSV, JSON, JSON Lines, HTML, Markdown, "
    "plain text, email (.eml, .msg), RST, RTF, ODT, EPUB, images (PNG, JPEG, TIFF) and "
    "source code or configuration files."
)

# Binary signatures we recognise only to refuse them with a helpful name.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S
)
_ZIP_KINDS = (
    ("word/document.xml", DOCX),
    ("ppt/presentation.xml", PPTX),
    ("xl/workbook.xml", XLSX),
    ("META-INF/container.xml", EPUB),
)

__all__ = ["DecodedText", "decode_text", "detect_format", "format_for_name", "label"]


def label(fmt: str) -> str:
    """Human name of a detected format, for messages."""
    return _LABELS.get(fmt, fmt)


def format_for_name(filename: str) -> str | None:
    """The format a file's extension promises, if it is one we support."""
    return _EXTENSIONS.get(PurePath(filename).suffix.lower())


def _zip_kind(content: bytes) -> str | None:
    """The Office/ODT/EPUB format of a zip, "zip" for other archives, None if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            mimetype = b""
            if "mimetype" in names:  # at most 100 bytes of it: never inflate a bomb here
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error):
        return None  # RuntimeError: an encrypted entry
    if mimetype.strip() == b"application/vnd.oasis.opendocument.text":
        return ODT
    return next((kind for part, kind in _ZIP_KINDS if part in names), "zip")


def _is_outlook_message(content: bytes) -> bool:
    """Is this OLE file an Outlook message (MAPI properties and a message class)?"""
    import olefile  # reads the directory only, not the streams

    try:  # a file object: olefile takes short bytes for a file name
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            has_class = ole.exists("__substg1.0_001A001F") or ole.exists("__substg1.0_001A001E")
            return bool(has_class and ole.exists("__properties_version1.0"))
    except Exception:  # olefile raises OSError and assorted parse errors on damaged files
        return False


def _strict_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parses_as_json(content: bytes) -> bool:
    """Is `content` (UTF-8, optionally with a BOM) one JSON object or array?"""
    body = content.removeprefix(b"\xef\xbb\xbf").strip()
    if body[:1] not in (b"{", b"[") or body[-1:] not in (b"}", b"]"):
        return False
    try:
        json.loads(body.decode("utf-8"), parse_constant=_strict_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _is_json_lines(content: bytes) -> bool:
    """Every non-empty line is one JSON object or array."""
    lines = [line for line in content.removeprefix(b"\xef\xbb\xbf").splitlines() if line.strip()]
    return bool(lines) and all(parses_as_json(line) for line in lines)


def detect_format(filename: str, content: bytes, media_type: str | None = None) -> str:
    """The format of an upload (see the module's table), or an IngestError saying why not."""
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
        if kind in BINARY_FORMATS:
            return kind
        if claimed in BINARY_FORMATS:
            raise CorruptDocument(
                f"{name} is not a valid {label(claimed)} file; it may be damaged or "
                "saved in another format."
            )
        raise UnsupportedFileType(f"{name} is a zip archive. {SUPPORTED_SENTENCE}")
    if content.startswith(b"{\\rtf"):
        return RTF
    if content.startswith(_IMAGE_SIGNATURES):
        return IMAGE
    if content.startswith(_OLE_SIGNATURE):
        if _is_outlook_message(content):
            return MSG
        if claimed == MSG:
            raise CorruptDocument(
                f"{name} is not a valid {label(MSG)} file; it may be damaged or saved in "
                "another format."
            )
        raise UnsupportedFileType(
            f"{name} looks like a legacy Office file (.doc/.ppt/.xls). {SUPPORTED_SENTENCE}"
        )
    for signature, what in _BINARY_SIGNATURES:
        if content.startswith(signature):
            raise UnsupportedFileType(f"{name} looks like {what}. {SUPPORTED_SENTENCE}")
    if _HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")):
        return HTML
    if claimed in BINARY_FORMATS:
        if parses_as_json(content):
            return JSON
        raise CorruptDocument(
            f"{name} is not a valid {label(claimed)} file; it may be damaged or saved "
            "in another format."
        )
    if claimed == JSON and not parses_as_json(content) and _is_json_lines(content):
        return JSONL
    if claimed == JSONL and parses_as_json(content) and not _is_json_lines(content):
        return JSON
    if claimed in (TEXT, None) and parses_as_json(content):
        return JSON
    if ext in (".vtt", ".srt"):
        raise UnsupportedFileType(
            f"{name} is a transcript: import it as a meeting (POST /meetings/import, or "
            "kb-service ingest), not as a document."
        )
    if by_name is None and ext and not mime.startswith("text/"):
        kind = ext.lstrip(".")
        raise UnsupportedFileType(f"{name}: .{kind} files are not supported. {SUPPORTED_SENTENCE}")
    return claimed or TEXT
