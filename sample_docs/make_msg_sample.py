"""Regenerate `room-booking.msg`: an Outlook message in the real [MS-OXMSG] format.

Run from the repository root with the project's virtualenv active (the dev extra
installs extract-msg):

    python sample_docs/make_msg_sample.py

No Outlook runs here, so the message is assembled the way Outlook stores one: MAPI
properties in an OLE compound file (a `__properties_version1.0` stream of fixed-size
values, a `__substg1.0_<tag>` stream per string or binary value, one storage per
recipient and per attachment, and the named-property storage), written by
extract-msg's compound-file writer (`OleWriter`). Every value is fixed, so the file is
byte-identical on every run. The tests read it with python-oxmsg (our reader) and
check it with extract-msg, an independent reader.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

from extract_msg.ole_writer import OleWriter

HERE = Path(__file__).resolve().parent
SENT = dt.datetime(2026, 3, 4, 8, 30, tzinfo=dt.UTC)

PT_INT32, PT_BOOL, PT_TIME, PT_STRING, PT_BINARY = 0x0003, 0x000B, 0x0040, 0x001F, 0x0102
READABLE_WRITABLE = 0x06

SUBJECT = "Room booking: Lisbon rooftop terrace for the payments offsite"
BODY = """Hi Hannah,

I booked the rooftop terrace of the Lisbon office for the payments team offsite on
Thursday 9 April, from 14:00 to 18:00. We will be eleven people, so we stay under the
limit of twelve.

Catering is ordered from Padaria Estrela: coffee at 14:00 and a light dinner at 17:30.
The projector stays in meeting room Tejo; please ask the facilities desk to carry it up.

The agenda is attached.

Thanks,
Mateo
"""
AGENDA = """Payments offsite agenda, 9 April 2026

14:00 Coffee and a look back at the 4.3 release
14:45 Refund flow redesign: decide between the two proposals
16:00 Break
16:15 Fraud rules for the Brazilian market
17:30 Dinner on the terrace
"""
SENDER = ("Mateo Rojas", "mateo.rojas@quillfeather.example")
RECIPIENTS = [
    (1, "Hannah Pike", "hannah.pike@quillfeather.example"),  # To
    (2, "Ines Carvalho", "ines.carvalho@quillfeather.example"),  # Cc
]


def filetime(moment: dt.datetime) -> int:
    """100-ns intervals since 1601-01-01 UTC (a MAPI PtypTime)."""
    return int((moment - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10**7)


def property_streams(props: list[tuple[int, int, object]], header: bytes) -> dict[str, bytes]:
    """The `__properties_version1.0` stream (after `header`) and one stream per variable
    value, for `(property id, type, value)` triples."""
    table = bytearray(header)
    streams: dict[str, bytes] = {}
    for pid, ptype, value in props:
        tag = (pid << 16) | ptype
        if ptype in (PT_STRING, PT_BINARY):
            data = value.encode("utf-16-le") if isinstance(value, str) else value
            assert isinstance(data, bytes)
            streams[f"__substg1.0_{tag:08X}"] = data
            # a string's size counts its terminating null, which the stream leaves out
            size = len(data) + (2 if ptype == PT_STRING else 0)
            table += struct.pack("<IIII", tag, READABLE_WRITABLE, size, 0)
        elif ptype == PT_TIME:
            assert isinstance(value, int)
            table += struct.pack("<IIQ", tag, READABLE_WRITABLE, value)
        else:
            assert isinstance(value, int)
            table += struct.pack("<IIII", tag, READABLE_WRITABLE, value, 0)
    streams["__properties_version1.0"] = bytes(table)
    return streams


def write_msg(path: Path, *, body: str | None = BODY, html: str | None = None) -> None:
    """The sample message; the tests also write variants (an HTML body instead)."""
    name, address = SENDER
    sent = filetime(SENT)
    to = "; ".join(n for kind, n, _ in RECIPIENTS if kind == 1)
    cc = "; ".join(n for kind, n, _ in RECIPIENTS if kind == 2)
    message = [
        (0x001A, PT_STRING, "IPM.Note"),  # PidTagMessageClass
        (0x0037, PT_STRING, SUBJECT),  # PidTagSubject
        (0x0E1D, PT_STRING, SUBJECT),  # PidTagNormalizedSubject
        (0x0039, PT_TIME, sent),  # PidTagClientSubmitTime
        (0x0E06, PT_TIME, sent),  # PidTagMessageDeliveryTime
        (0x0042, PT_STRING, name),  # PidTagSentRepresentingName
        (0x0065, PT_STRING, address),  # PidTagSentRepresentingEmailAddress
        (0x0C1A, PT_STRING, name),  # PidTagSenderName
        (0x0C1E, PT_STRING, "SMTP"),  # PidTagSenderAddressType
        (0x0C1F, PT_STRING, address),  # PidTagSenderEmailAddress
        (0x5D01, PT_STRING, address),  # PidTagSenderSmtpAddress
        (0x0E04, PT_STRING, to),  # PidTagDisplayTo
        (0x0E03, PT_STRING, cc),  # PidTagDisplayCc
        (0x0E07, PT_INT32, 0x01 | 0x10),  # PidTagMessageFlags: read, has attachments
        (0x3FDE, PT_INT32, 65001),  # PidTagInternetCodepage: UTF-8
        (0x340D, PT_INT32, 0x00040000),  # PidTagStoreSupportMask: STORE_UNICODE_OK
    ]
    if body is not None:
        message.append((0x1000, PT_STRING, body.replace("\n", "\r\n")))  # PidTagBody
    if html is not None:
        message.append((0x1013, PT_BINARY, html.encode()))  # PidTagHtml, in the UTF-8 codepage
    # Top-level header: reserved, next recipient id, next attachment id, counts, reserved.
    top = struct.pack("<8xIIII8x", len(RECIPIENTS), 1, len(RECIPIENTS), 1)
    writer = OleWriter()
    for stream, data in property_streams(message, top).items():
        writer.addEntry(stream, data)
    for row, (kind, display, email) in enumerate(RECIPIENTS):
        storage = f"__recip_version1.0_#{row:08X}"
        writer.addEntry(storage, storage=True)
        recipient = [
            (0x3000, PT_INT32, row),  # PidTagRowid
            (0x0C15, PT_INT32, kind),  # PidTagRecipientType: 1 To, 2 Cc
            (0x0FFE, PT_INT32, 6),  # PidTagObjectType: a mail user
            (0x3900, PT_INT32, 0),  # PidTagDisplayType
            (0x3001, PT_STRING, display),  # PidTagDisplayName
            (0x3002, PT_STRING, "SMTP"),  # PidTagAddressType
            (0x3003, PT_STRING, email),  # PidTagEmailAddress
            (0x39FE, PT_STRING, email),  # PidTagSmtpAddress
        ]
        for stream, data in property_streams(recipient, bytes(8)).items():
            writer.addEntry(f"{storage}/{stream}", data)
    storage = "__attach_version1.0_#00000000"
    writer.addEntry(storage, storage=True)
    agenda = AGENDA.encode()
    attachment = [
        (0x0E21, PT_INT32, 0),  # PidTagAttachNumber
        (0x3705, PT_INT32, 1),  # PidTagAttachMethod: by value
        (0x370B, PT_INT32, 0xFFFFFFFF),  # PidTagRenderingPosition: not rendered inline
        (0x0E20, PT_INT32, len(agenda)),  # PidTagAttachSize
        (0x3704, PT_STRING, "AGENDA~1.TXT"),  # PidTagAttachFilename
        (0x3707, PT_STRING, "offsite-agenda.txt"),  # PidTagAttachLongFilename
        (0x3703, PT_STRING, ".txt"),  # PidTagAttachExtension
        (0x370E, PT_STRING, "text/plain"),  # PidTagAttachMimeTag
        (0x3701, PT_BINARY, agenda),  # PidTagAttachDataBinary
    ]
    for stream, data in property_streams(attachment, bytes(8)).items():
        writer.addEntry(f"{storage}/{stream}", data)
    # The named-property mapping: no named properties, so its three streams are empty.
    writer.addEntry("__nameid_version1.0", storage=True)
    for stream in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        writer.addEntry(f"__nameid_version1.0/{stream}", b"")
    writer.write(str(path))


if __name__ == "__main__":
    write_msg(HERE / "room-booking.msg")
