"""Upload plumbing shared by both clients: which files, in which requests, bytes sent so far.

`find_files` lists a folder's files (sorted, hidden ones skipped); `batches` splits
paths into requests that stay under the server's caps (`KB_MAX_UPLOAD_MB`, 50 MB by
default, and 1,000 files per job); `opened` opens one batch as the multipart `files`
field; `Counted` wraps a request body so that `progress(sent, total)` is called as
httpx takes each chunk of it (bytes handed to the socket, multipart framing
included). On a retry the batch is sent again from its start, so `sent` may go back.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

Progress = Callable[[int, int], None]
"""progress(sent, total): request body bytes sent so far, and in all (of every batch)."""

MAX_FILES_PER_REQUEST = 1000
MAX_BYTES_PER_REQUEST = 45 * 1024 * 1024  # under the default 50 MB cap, with framing to spare


def find_files(folder: str | Path, pattern: str = "**/*") -> list[Path]:
    """The files under `folder` matching `pattern`, sorted; dot-files and dot-folders skipped."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def batches(
    paths: Iterable[str | Path],
    *,
    max_files: int = MAX_FILES_PER_REQUEST,
    max_bytes: int = MAX_BYTES_PER_REQUEST,
) -> list[list[Path]]:
    """Consecutive groups of `paths` of at most `max_files` files and `max_bytes` bytes.

    A single file larger than `max_bytes` gets a request of its own (the server decides).
    """
    groups: list[list[Path]] = []
    size = 0
    for path in map(Path, paths):
        length = path.stat().st_size
        if not groups or len(groups[-1]) >= max_files or size + length > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(path)
        size += length
    return groups


@contextmanager
def opened(paths: Sequence[Path]) -> Iterator[list[tuple[str, Any]]]:
    """The multipart `files` field of `paths`, open for reading while the context lasts."""
    with ExitStack() as stack:
        yield [
            (
                "files",
                (
                    p.name,
                    stack.enter_context(p.open("rb")),
                    mimetypes.guess_type(p.name)[0] or "application/octet-stream",
                ),
            )
            for p in paths
        ]


class Tracker:
    """Bytes sent across the requests of one upload; reports to `progress`."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0  # bytes of the requests that completed

    def finish(self, length: int) -> None:
        self.done += length
        self.report(0)

    def report(self, sent_in_request: int) -> None:
        if self.progress is not None:
            self.progress(self.done + sent_in_request, self.total)


class Counted(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A request body that reports each chunk httpx takes from it to a `Tracker`."""

    def __init__(self, stream: Any, tracker: Tracker) -> None:
        self.stream = stream
        self.tracker = tracker

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        self.tracker.report(0)
        for chunk in self.stream:
            yield chunk
            sent += len(chunk)
            self.tracker.report(sent)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        self.tracker.report(0)
        for chunk in self.stream:  # multipart bodies are read from files synchronously
            yield chunk
            sent += len(chunk)
            self.tracker.report(sent)


def body_length(request: httpx.Request) -> int:
    return int(request.headers.get("content-length") or 0)


def multipart_length(paths: Sequence[Path], data: dict[str, str]) -> int:
    """The body length of the multipart request for `paths` and form fields `data`."""
    with opened(paths) as files:
        return body_length(httpx.Request("POST", "http://length.invalid/", files=files, data=data))
