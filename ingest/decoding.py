"""Decoding text-family files safely: BOM, UTF-8, charset detection, cp1252/latin-1."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from ingest.errors import CorruptDocument

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """Lone surrogates (from JSON escapes, or bytes `email` could not decode), which no
    database stores, become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


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
