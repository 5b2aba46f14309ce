"""Hostile documents built in the test from a real sample DOCX: small on disk, huge inside.

- `docx_with_inflating_part`: the sample with its thumbnail replaced by a part of
  zeros that inflates to `size` bytes (a zip bomb, ~1 MB on disk per GiB).
- `docx_with_paragraphs`: the sample with `count` short distinct paragraphs; its text
  compresses like prose (so the archive limits let it through) and parsing it takes
  time and memory in proportion to `count`.
- `png_bomb`: a PNG whose header declares `width` x `height` pixels, with almost no
  data (a decompression bomb: a few hundred bytes that would decode to gigabytes).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

SAMPLE_DOCX = Path(__file__).resolve().parent.parent / "sample_docs" / "onboarding.docx"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PIECE = b"\0" * (1024 * 1024)


def _rewritten(replace: dict[str, bytes | None], extra: zipfile.ZipFile | None = None) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(SAMPLE_DOCX) as sample,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx,
    ):
        for entry in sample.infolist():
            if entry.filename in replace:
                data = replace[entry.filename]
                if data is not None:
                    docx.writestr(entry.filename, data)
            else:
                docx.writestr(entry, sample.read(entry))
    return out.getvalue()


def docx_with_inflating_part(size: int, part: str = "docProps/thumbnail.jpeg") -> bytes:
    """The sample DOCX whose `part` is `size` bytes of zeros (deflated: ~1/1000 of it)."""
    out = io.BytesIO(_rewritten({part: None}))
    entry = zipfile.ZipInfo(part)
    entry.compress_type = zipfile.ZIP_DEFLATED
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as docx,
        docx.open(entry, "w", force_zip64=True) as stream,
    ):
        left = size
        while left > 0:
            stream.write(_PIECE[: min(left, len(_PIECE))])
            left -= len(_PIECE)
    return out.getvalue()


def docx_with_paragraphs(count: int, title: str = "Paragraph stress test") -> bytes:
    """The sample DOCX with a title and `count` distinct one-sentence paragraphs."""
    body = [f'<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>{title}</w:t></w:r></w:p>']
    body.extend(
        f"<w:p><w:r><w:t>Line {n} notes item {n * 7919 % 100003} of batch {n // 1000}.</w:t>"
        "</w:r></w:p>"
        for n in range(count)
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        f"<w:body>{''.join(body)}</w:body></w:document>"
    )
    return _rewritten({"word/document.xml": document.encode()})


def png_bomb(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` 8-bit gray pixels but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")
