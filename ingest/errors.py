"""Why a source could not be turned into text.

Every failure the extractor reports is an `IngestError` whose message is a sentence
meant for the person who uploaded the file: it never contains exception text, stack
traces or HTTP status codes (the API layer maps classes to responses).

    IngestError
    ├── UnsupportedFileType   a format we do not read (.exe, .zip, .gif, legacy .doc, ...)
    │   └── OcrUnavailable    text recognition is needed, and Tesseract is not installed
    ├── EmptyDocument         no bytes, only whitespace, or no extractable text
    │   └── NoTextLayer       a PDF without a text layer in which OCR found no text either
    ├── CorruptDocument       bytes that do not parse as the format they claim to be
    ├── ProtectedDocument     a password-protected PDF
    └── DocumentTooLarge      more pages than the extractor is configured to read
        ├── ArchiveTooLarge   a DOCX/PPTX that inflates past the archive limits (`archives.py`)
        ├── ImageTooLarge     an image (or TIFF frame) with more pixels than OCR may decode
        └── ParseLimitExceeded  parsing took longer or more memory than one document may

`ParserStopped` is not an `IngestError`: the parser was stopped (shutdown) while it
read the document, which says nothing about the document.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class: a source could not be extracted; `message` is safe to show users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFileType(IngestError):
    """The file's type (by content and by name) is not one we can extract."""


class OcrUnavailable(UnsupportedFileType):
    """The document needs text recognition and Tesseract (or its data) is not installed."""


class EmptyDocument(IngestError):
    """The file is empty, whitespace only, or yielded no text at all."""


class NoTextLayer(EmptyDocument):
    """A PDF that parses but has no text layer, and in which OCR found no text either."""


class CorruptDocument(IngestError):
    """The bytes are damaged or are not what the file name says they are."""


class ProtectedDocument(IngestError):
    """The document needs a password to open."""


class DocumentTooLarge(IngestError):
    """The document exceeds a configured size limit (for example pages)."""


class ArchiveTooLarge(DocumentTooLarge):
    """A zip-based document with too many entries, too many bytes inflated, or a bomb's ratio."""


class ImageTooLarge(DocumentTooLarge):
    """An image, or a frame of a TIFF, with more pixels than text recognition may decode."""


class ParseLimitExceeded(DocumentTooLarge):
    """Parsing the document ran past the time or memory one document may use."""


class ParserStopped(Exception):
    """The parser process was stopped (the service is shutting down) during the parse."""
