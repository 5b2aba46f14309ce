"""Email messages (`.eml`, RFC 5322/MIME): the message a document, attachments their own.

`partition_email_bytes(data, name)` reads the message (Python's `email` package, the
modern policy): the subject is its declared title; sender, recipients and date are
metadata (`email_from`, `email_to`, `email_cc`, `email_date`, `email_attachments`)
and also the first lines of its text (`From: ...`), so a question about who wrote
what finds the message; then the body: its `text/plain` part, else its `text/html`
part read like an HTML page. `email_attachments(data, name)` lists the attachments
(`Attachment`: file name, bytes, media type) for the service to ingest as documents
of their own, linked to the message through their metadata. Outlook `.msg` files
(`msg_files.py`) are laid out by the same `message_partitioned`.

Failure modes: `CorruptDocument` for bytes without any message header;
`EmptyDocument` (by the extractor) for a message without a readable body.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from ingest.decoding import valid_unicode
from ingest.errors import CorruptDocument
from ingest.normalise import TEXT, Piece, plain_text_pieces
from ingest.partitioners import Partitioned, partition_html_text

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 100
HEADERS = (("From", "email_from"), ("To", "email_to"), ("Cc", "email_cc"), ("Date", "email_date"))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str | None


def _message(data: bytes, name: str) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    if not isinstance(message, EmailMessage) or not any(
        _header(message, key) for key in ("From", "To", "Subject", "Date", "Message-ID")
    ):
        raise CorruptDocument(f"{name} is not an email message (it has no From, To or Subject).")
    return message


def _header(message: Message, key: str) -> str | None:
    try:
        value = message.get(key)
    except Exception:  # a header too malformed for the policy to parse
        return None
    text = " ".join(valid_unicode(str(value)).replace("\x00", " ").split()) if value else ""
    return text or None


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, KeyError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return valid_unicode(content) if isinstance(content, str) else ""


def _attachment_name(part: Message, number: int, suffix: str = "") -> str:
    try:
        name = part.get_filename()
    except Exception:  # a malformed Content-Disposition
        name = None
    return valid_unicode(name) if name else f"attachment-{number}{suffix}"


def partition_email_bytes(data: bytes, name: str) -> Partitioned:
    """An email: header lines, then its body (see the module docstring)."""
    message = _message(data, name)
    headers = {key: _header(message, key) for key, _field in HEADERS}
    attachments = [
        _attachment_name(part, n) for n, part in enumerate(message.iter_attachments(), start=1)
    ]
    body_pieces: list[Piece] = []
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        text = _text_of(body)
        if body.get_content_subtype() == "html":
            body_pieces = partition_html_text(text).pieces
        else:
            body_pieces = plain_text_pieces(text)
    return message_partitioned(headers, body_pieces, _header(message, "Subject"), attachments)


def message_partitioned(
    headers: dict[str, str | None],
    body: list[Piece],
    subject: str | None,
    attachment_names: list[str],
) -> Partitioned:
    """A message's document: the `HEADERS` present as lines, then the body; the subject
    as its title and headers and attachment names as metadata (`.eml` and `.msg` alike)."""
    metadata: dict[str, Any] = {}
    lines = []
    for key, field in HEADERS:
        value = headers.get(key)
        if value:
            metadata[field] = value
            lines.append(f"{key}: {value}")
    if attachment_names:
        metadata["email_attachments"] = attachment_names[:MAX_ATTACHMENTS]
    pieces = [Piece("\n".join(lines), TEXT, keep_lines=True)] if lines else []
    return Partitioned([*pieces, *body], subject, metadata, headings_are_titles=False)


def email_attachments(data: bytes, name: str) -> tuple[str | None, list[Attachment]]:
    """The message's subject and attachments (at most MAX_ATTACHMENTS; a forwarded
    message as an `.eml`), without reading its body; CorruptDocument if unreadable."""
    message = _message(data, name)
    try:
        return _header(message, "Subject"), _attachments_of(message)
    except Exception as exc:  # malformed MIME structure
        logger.info("could not list the attachments of %s: %r", name, exc)
        raise CorruptDocument(f"{name}: its attachments could not be read.") from None


def _attachments_of(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        if number > MAX_ATTACHMENTS:
            break
        if part.get_content_maintype() == "message":
            inner = part.get_payload(0) if part.is_multipart() else part.get_content()
            content = inner.as_bytes() if isinstance(inner, Message) else b""
            filename = _attachment_name(part, number, ".eml")
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            filename = _attachment_name(part, number)
        found.append(Attachment(filename, content, part.get_content_type()))
    return found
