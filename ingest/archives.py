"""Bounds on zip-based documents (DOCX, PPTX), checked before a parser opens them.

An Office file is a zip archive, and its parser inflates every part into memory: a
1 MB upload can hold a part that inflates to gigabytes (a "zip bomb"). `check_archive`
refuses an archive, before any parser reads it, when

- it has more entries than `ArchiveLimits.max_entries`;
- its entries declare more than `max_uncompressed_bytes` in total;
- an entry, or the archive as a whole, declares a compression ratio above `max_ratio`
  (only for sizes above `RATIO_FLOOR_BYTES`: a few kilobytes of repeated XML
  compress a thousandfold and harm nobody);

and then inflates every entry once, streamed in small pieces and counted, stopping
as soon as the bytes actually inflated pass `max_uncompressed_bytes`. The declared
sizes alone are not trusted: zipfile stops an entry at its declared size and checks
its CRC, so an entry whose header lies about its size fails here as damaged, and the
parser afterwards reads exactly the bytes counted here.

Failure modes: `ArchiveTooLarge` (a `DocumentTooLarge`) with a sentence naming the
limit, or `CorruptDocument` when the archive cannot be read.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from ingest.errors import ArchiveTooLarge, CorruptDocument

MB = 1024 * 1024
RATIO_FLOOR_BYTES = 1 * MB
_PIECE = 1 * MB


@dataclass(frozen=True)
class ArchiveLimits:
    """How large a zip-based document may inflate; each bound refuses on its own."""

    max_uncompressed_bytes: int = 512 * MB
    max_entries: int = 10_000
    max_ratio: float = 200.0

    def __post_init__(self) -> None:
        if self.max_uncompressed_bytes < 1 or self.max_entries < 1 or self.max_ratio < 1:
            raise ValueError(f"archive limits must be positive, got {self}")


def check_archive(content: bytes, name: str, limits: ArchiveLimits) -> None:
    """Refuse `content` (a zip archive called `name`) if it breaks `limits`; see above."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            _check_declared(entries, len(content), name, limits)
            inflated = 0
            for entry in entries:
                inflated = _inflate_counted(archive, entry, inflated, name, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise CorruptDocument(
            f"{name} is a damaged archive ({type(exc).__name__}); it cannot be read safely."
        ) from None


def _check_declared(
    entries: list[zipfile.ZipInfo], size: int, name: str, limits: ArchiveLimits
) -> None:
    if len(entries) > limits.max_entries:
        raise ArchiveTooLarge(
            f"{name} holds {len(entries):,} files inside; the limit is {limits.max_entries:,}."
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_bytes:
        raise ArchiveTooLarge(_too_large(name, total, limits))
    for entry in entries:
        if entry.file_size > RATIO_FLOOR_BYTES:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ArchiveTooLarge(_too_dense(name, ratio, limits, f"its part {entry.filename}"))
    if total > RATIO_FLOOR_BYTES and total / max(size, 1) > limits.max_ratio:
        raise ArchiveTooLarge(_too_dense(name, total / max(size, 1), limits, "it"))


def _inflate_counted(
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    inflated: int,
    name: str,
    limits: ArchiveLimits,
) -> int:
    """Inflate `entry` piece by piece; the running total of bytes inflated so far."""
    if entry.is_dir():
        return inflated
    with archive.open(entry) as stream:
        while piece := stream.read(_PIECE):
            inflated += len(piece)
            if inflated > limits.max_uncompressed_bytes:
                raise ArchiveTooLarge(_too_large(name, inflated, limits, "at least "))
    return inflated


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size < 10 * MB else f"{size / MB:,.0f} MB"


def _too_large(name: str, size: int, limits: ArchiveLimits, qualifier: str = "") -> str:
    return (
        f"{name} inflates to {qualifier}{_mb(size)}; the limit for the uncompressed "
        f"size of a document is {_mb(limits.max_uncompressed_bytes)}."
    )


def _too_dense(name: str, ratio: float, limits: ArchiveLimits, what: str) -> str:
    return (
        f"{name} looks like a zip bomb: {what} is compressed {ratio:,.0f} to 1; "
        f"the limit is {limits.max_ratio:,.0f} to 1."
    )
