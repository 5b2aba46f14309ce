"""What an ingest request carries before it becomes job items: files and text records.

`Upload` and `TextRecord` are the two kinds of source; `safe_filename` and
`safe_media_type` make what a client declared safe to store. `split_record_files` looks
inside uploads that hold several documents: a JSON records file becomes its records,
an email is followed by its attachments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest import formats
from ingest.email_files import Attachment, email_attachments
from ingest.errors import EmptyDocument, IngestError, UnsupportedFileType
from ingest.json_files import InvalidRecords, JsonRecord, records_in
from ingest.msg_files import msg_attachments
from kb_service.errors import InvalidInput
from kb_service.strict_json import checked_metadata

_OUTLOOK_TYPE = "application/vnd.ms-outlook"
MAX_SOURCE_URL_LENGTH = 2000  # the documents' and items' `source_url` columns
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
# RFC 6838 type/subtype names (at most 127 characters each)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content: bytes
    media_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # wins over the request's


@dataclass(frozen=True)
class TextRecord:
    text: str
    title: str | None = None
    source_url: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def safe_filename(name: str | None) -> str:
    """The last path component, without control or reserved characters, at most 255 chars.

    "../../etc/passwd" becomes "passwd"; "C:\\x\\report.pdf" becomes "report.pdf".
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 10 else name[:255]
    return name or "upload"


def safe_media_type(value: str | None) -> str | None:
    """The declared `type/subtype` (lowercase, parameters dropped), or None if malformed.

    A declared media type is only a hint (formats are detected from the file name and
    bytes too), so an unreadable one is ignored rather than refused.
    """
    essence = (value or "").split(";", 1)[0].strip().lower()
    return essence if _MEDIA_TYPE.fullmatch(essence) else None


def split_record_files(uploads: Sequence[Upload]) -> tuple[list[Upload], list[TextRecord]]:
    """Uploads that are JSON records files (`ingest.json_files.records_in`) become text
    records, one document per record, exactly like the JSON ingest body's documents;
    each record's metadata also names its file (`source_file`). Every other upload,
    invalid JSON included, stays a file for the parser (which reports its errors).
    A records file with an invalid record is `InvalidInput` naming the file and record.
    An email (`.eml` or Outlook `.msg`) stays a file, followed by each of its attachments
    as a file of its own ("<email> - <attachment>") whose metadata names the email
    (`attached_to`, `email_subject`); attachments in formats never read (archives),
    images (mostly logos and signatures: OCR would only fail on them) and empty ones
    are left out (the email's metadata lists every attachment).
    """
    files: list[Upload] = []
    records: list[TextRecord] = []
    for position, upload in enumerate(uploads):
        name = safe_filename(upload.filename)
        found = _file_records(name, upload, field=f"files.{position}")
        if found is None:
            files.append(upload)
            files.extend(_attachments(name, upload))
            continue
        for index, record in enumerate(found):
            field = f"files.{position}.documents.{index}"
            record_metadata = {"source_file": name, **record.metadata}
            checked_metadata(record_metadata, field=f"{field}.metadata")
            check_source_url(record.source_url, field=f"{field}.source_url")
            records.append(
                TextRecord(
                    text=record.text,
                    title=record.title,
                    source_url=record.source_url,
                    external_id=record.external_id,
                    metadata=record_metadata,
                )
            )
    return files, records


def _file_records(name: str, upload: Upload, *, field: str) -> list[JsonRecord] | None:
    if upload.content.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] not in (b"{", b"["):
        return None  # neither JSON nor JSON Lines
    try:
        fmt = formats.detect_format(name, upload.content, safe_media_type(upload.media_type))
        if fmt not in (formats.JSON, formats.JSONL):
            return None
        text = formats.decode_text(upload.content, name).text
        return records_in(name, text, json_lines=fmt == formats.JSONL)
    except InvalidRecords as exc:
        raise InvalidInput(
            exc.message, errors=[{"field": field, "message": exc.message, "type": "value_error"}]
        ) from None
    except IngestError:
        return None


_MESSAGE_READERS: dict[str, Callable[[bytes, str], tuple[str | None, list[Attachment]]]] = {
    formats.EMAIL: email_attachments,
    formats.MSG: msg_attachments,
}


def _attachments(name: str, upload: Upload) -> list[Upload]:
    named = formats.format_for_name(name)
    media = safe_media_type(upload.media_type)
    if named not in _MESSAGE_READERS and media not in ("message/rfc822", _OUTLOOK_TYPE):
        return []
    try:
        reader = _MESSAGE_READERS.get(formats.detect_format(name, upload.content, media))
        if reader is None:
            return []
        subject, attached = reader(upload.content, name)
    except IngestError:
        return []  # the parser reports what is wrong with the email itself
    link = {"attached_to": name, **({"email_subject": subject} if subject else {})}
    # named after the email too, so two emails' "report.pdf" are two documents
    files = [Upload(f"{name} - {a.filename}", a.content, a.media_type, link) for a in attached]
    return [file for file in files if _readable(file)]


def _readable(upload: Upload) -> bool:
    """Not an attachment we leave out (an image, an archive) or an empty one."""
    try:
        fmt = formats.detect_format(
            safe_filename(upload.filename), upload.content, upload.media_type
        )
    except (UnsupportedFileType, EmptyDocument):
        return False
    except IngestError:
        return True  # damaged: the document fails with the reason
    return fmt != formats.IMAGE


def check_source_url(url: str | None, *, field: str) -> None:
    if url is not None and len(url) > MAX_SOURCE_URL_LENGTH:
        problem = (
            f"at most {MAX_SOURCE_URL_LENGTH} characters are allowed "
            f"(this URL has {len(url)} once normalised)"
        )
        raise InvalidInput(
            f"{field}: {problem}",
            errors=[{"field": field, "message": problem, "type": "string_too_long"}],
        )
