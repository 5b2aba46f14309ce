"""Outlook messages (`.msg`, [MS-OXMSG]: MAPI properties in an OLE compound file).

Read with `python-oxmsg` (the reader unstructured itself uses), laid out exactly like
an `.eml` (`email_files.message_partitioned`): the subject is the title; sender, `To`
and `Cc` recipients and the submit time are the first lines and the metadata
(`email_from`, `email_to`, `email_cc`, `email_date` in RFC 5322 form,
`email_attachments`); then the plain-text body, else the HTML body read like an HTML
page. The sender's SMTP address is preferred to an Exchange one. `msg_attachments`
lists the attachments stored by value (`Attachment`s, for the service to ingest as
their own documents); attachments by reference and embedded messages are only named.

Failure modes: `CorruptDocument` for a compound file that is not a readable message;
`EmptyDocument` (by the extractor) for a message without a plain or HTML body (one
whose only body is compressed RTF).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import logging
from typing import Any

from ingest.decoding import valid_unicode
from ingest.email_files import MAX_ATTACHMENTS, Attachment, message_partitioned
from ingest.errors import CorruptDocument
from ingest.normalise import plain_text_pieces
from ingest.partitioners import Partitioned, partition_html_text

logger = logging.getLogger(__name__)

# MAPI property ids ([MS-OXPROPS]) that python-oxmsg reads but does not name as fields.
_SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_RECIPIENT_TYPE, _TO, _CC = 0x0C15, 1, 2
_ATTACH_METHOD, _BY_VALUE = 0x3705, 1
_ATTACH_SHORT_NAME = 0x3704


def _load(data: bytes, name: str) -> Any:
    from oxmsg import Message

    try:
        return Message.load(io.BytesIO(data))  # short bytes would be taken for a path
    except Exception as exc:  # olefile and oxmsg raise assorted errors on damaged files
        logger.info("could not open %s as an Outlook message: %r", name, exc)
        raise CorruptDocument(f"{name} is not a readable Outlook message (.msg).") from None


def _clean(value: object) -> str | None:
    text = " ".join(valid_unicode(str(value)).replace("\x00", " ").split()) if value else ""
    return text or None


def _sender(message: Any) -> str | None:
    props = message.properties
    address = next(
        (
            value
            for pid in (_SENDER_SMTP, _SENDER_EMAIL)
            if (value := _clean(props.str_prop_value(pid))) and "@" in value
        ),
        None,
    )
    display = _clean(props.str_prop_value(_SENDER_NAME))
    if address:
        return email.utils.formataddr((display or "", address))
    return display or _clean(message.sender)


def _recipients(message: Any, kind: int) -> str | None:
    found = []
    for recipient in message.recipients:
        if (recipient.properties.int_prop_value(_RECIPIENT_TYPE) or _TO) != kind:
            continue
        address, display = _clean(recipient.email_address), _clean(recipient.name)
        if address and "@" in address:
            found.append(email.utils.formataddr((display or "", address)))
        elif display:
            found.append(display)
    return ", ".join(found) or None


def _date(message: Any) -> str | None:
    sent: dt.datetime | None = message.sent_date
    return email.utils.format_datetime(sent) if sent else None


def _attachment_name(attachment: Any, number: int) -> str:
    name = _clean(attachment.file_name) or _clean(
        attachment.properties.str_prop_value(_ATTACH_SHORT_NAME)
    )
    return name or f"attachment-{number}"


def partition_msg_bytes(data: bytes, name: str) -> Partitioned:
    """An Outlook message: header lines, then its body (see the module docstring)."""
    message = _load(data, name)
    try:
        headers = {
            "From": _sender(message),
            "To": _recipients(message, _TO),
            "Cc": _recipients(message, _CC),
            "Date": _date(message),
        }
        names = [_attachment_name(a, n) for n, a in enumerate(message.attachments, start=1)]
        text, html = message.body, message.html_body
        subject = _clean(message.subject)
    except Exception as exc:  # a property stream that does not parse
        logger.info("could not read the properties of %s: %r", name, exc)
        raise CorruptDocument(f"{name} is not a readable Outlook message (.msg).") from None
    if text and text.strip("\x00 \r\n"):
        body = plain_text_pieces(valid_unicode(text).replace("\x00", ""))
    elif html:
        body = partition_html_text(valid_unicode(html).replace("\x00", "")).pieces
    else:
        body = []
    return message_partitioned(headers, body, subject, names)


def msg_attachments(data: bytes, name: str) -> tuple[str | None, list[Attachment]]:
    """The message's subject and its attachments stored by value (at most
    MAX_ATTACHMENTS); CorruptDocument if the message cannot be read."""
    message = _load(data, name)
    found: list[Attachment] = []
    try:
        for number, attachment in enumerate(message.attachments, start=1):
            if number > MAX_ATTACHMENTS:
                break
            method = attachment.properties.int_prop_value(_ATTACH_METHOD)
            content = attachment.file_bytes if method == _BY_VALUE else None
            if content:
                filename = _attachment_name(attachment, number)
                found.append(Attachment(filename, content, _clean(attachment.mime_type)))
        return _clean(message.subject), found
    except Exception as exc:  # malformed attachment storages
        logger.info("could not list the attachments of %s: %r", name, exc)
        raise CorruptDocument(f"{name}: its attachments could not be read.") from None
