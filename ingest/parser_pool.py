"""Parsing files in child processes with a time and a memory limit per document.

A hostile or pathological file (a million paragraphs, a part that inflates to
gigabytes) can make a parser run for minutes or take gigabytes; in the service's own
process it would take the service with it. `ParserPool.prepare_file` sends the file
to a long-lived parser process (`parser_process.serve`) and waits for the answer,
watching the clock and the process's resident memory. Past `ParseLimits` the process
is killed, the document fails alone with `ParseLimitExceeded` ("parsing took longer
than 120 s"), and the next document gets a fresh process. Parser processes are reused
across documents, one per concurrent caller, and forked from a fork server that has
warmed the parsers once (`parser_warm.py`), so a new or replaced one is ready in
milliseconds, and none of them is forked from the service's threaded process.

`stop()` kills every parser process at once: a call waiting on one raises
`ParserStopped`, and so does every later call (the service is shutting down).

Failure modes of `prepare_file`: the `IngestError` the parser raised;
`ParseLimitExceeded`; `CorruptDocument` when the parser process died on the file;
`ParserStopped`; `RuntimeError` for a parser process that failed to start or an
unexpected exception inside the parser (the detail is for the log, not for users).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import PurePath
from typing import Any

from ingest import errors
from ingest.documents import SourceFile
from ingest.errors import CorruptDocument, ParseLimitExceeded, ParserStopped
from ingest.parser_process import ParserSetup, serve
from ingest.pipeline import ChunkingConfig, PreparedDocument

MB = 1024 * 1024
# How often a waiting caller looks at the clock, the process's memory and `stop()`;
# an answer arriving in between is read at once.
_TICK_SECONDS = 0.05


@dataclass(frozen=True)
class ParseLimits:
    """What parsing one document may take: wall time, and the parser process's memory."""

    timeout_seconds: float = 120.0
    max_memory_mb: int = 2048
    # A parser process that is not ready after this long is a broken installation.
    start_timeout_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.max_memory_mb < 1:
            raise ValueError(f"parse limits must be positive, got {self}")


def _context() -> BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ingest.parser_warm"])  # takes effect when it starts
    return context


class _Parser:
    """One parser process and the parent's end of its pipe."""

    def __init__(self, context: BaseContext, setup: ParserSetup, limits: ParseLimits) -> None:
        parent_end, child_end = context.Pipe()
        self.process: Any = context.Process(  # type: ignore[attr-defined]
            target=serve,
            args=(child_end, setup, limits.max_memory_mb * MB),
            name="kb-parser",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.ready = False

    def resident_bytes(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):  # gone, or no /proc
            return 0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)

    def discard(self) -> None:
        self.kill()
        self.conn.close()


class ParserPool:
    """Long-lived parser processes with per-document limits (see the module docstring)."""

    def __init__(self, setup: ParserSetup, limits: ParseLimits | None = None) -> None:
        self.setup = setup
        self.limits = limits or ParseLimits()
        self._context = _context()
        self._idle: list[_Parser] = []
        self._busy: set[_Parser] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def prepare_file(self, source: SourceFile, config: ChunkingConfig) -> PreparedDocument:
        """Parse and chunk `source` in a parser process, within the limits."""
        name = PurePath(source.filename).name or "The file"
        parser = self._checkout()
        try:
            answer = self._ask(parser, (source, config), name)
        except BaseException:
            self._drop(parser)
            raise
        if answer[0] == "memory":
            self._drop(parser)  # a MemoryError may have left it in any state
            raise self._memory_exceeded(name)
        self._checkin(parser)
        if answer[0] == "ok":
            prepared: PreparedDocument = answer[1]
            return prepared
        if answer[0] == "error":
            error_class = getattr(errors, answer[1], errors.IngestError)
            raise error_class(answer[2])
        raise RuntimeError(f"the parser process failed on {name}: {answer[1]}")

    def stop(self) -> None:
        """Kill every parser process; waiting and later calls raise `ParserStopped`."""
        with self._lock:
            self._stopped = True
            parsers = [*self._idle, *self._busy]
            self._idle.clear()
        for parser in parsers:
            parser.kill()

    def close(self) -> None:
        self.stop()

    def start_server(self) -> None:
        """Start the fork server now (it warms the parsers), not at the first file."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def _checkout(self) -> _Parser:
        with self._lock:
            if self._stopped:
                raise ParserStopped()
            parser = self._idle.pop() if self._idle else None
            if parser is not None and parser.process.is_alive():
                self._busy.add(parser)
                return parser
        if parser is not None:
            parser.conn.close()
        # Outside the lock: the first start waits for the fork server to warm up, and
        # `stop()` must not wait for that.
        parser = _Parser(self._context, self.setup, self.limits)
        with self._lock:
            if not self._stopped:
                self._busy.add(parser)
                return parser
        parser.discard()
        raise ParserStopped()

    def _checkin(self, parser: _Parser) -> None:
        with self._lock:
            self._busy.discard(parser)
            if self._stopped:
                parser.discard()
            else:
                self._idle.append(parser)

    def _drop(self, parser: _Parser) -> None:
        with self._lock:
            self._busy.discard(parser)
        parser.discard()

    def _ask(self, parser: _Parser, request: object, name: str) -> tuple[Any, ...]:
        """Send `request` once the parser is ready; its answer, or the limit it broke."""
        if not parser.ready:
            self._wait(parser, self.limits.start_timeout_seconds, name, starting=True)
            parser.ready = True
        parser.conn.send(request)
        return self._wait(parser, self.limits.timeout_seconds, name, starting=False)

    def _wait(
        self, parser: _Parser, seconds: float, name: str, *, starting: bool
    ) -> tuple[Any, ...]:
        deadline = time.monotonic() + seconds
        limit = self.limits.max_memory_mb * MB
        while True:
            if self._stopped:
                raise ParserStopped()
            if parser.conn.poll(_TICK_SECONDS):
                try:
                    answer: tuple[Any, ...] = parser.conn.recv()
                    return answer
                except (EOFError, OSError):
                    if self._stopped:
                        raise ParserStopped() from None
                    parser.kill()
                    if starting:
                        raise RuntimeError(
                            f"a parser process exited on start ({parser.process.exitcode})"
                        ) from None
                    raise CorruptDocument(
                        f"{name} made the parser stop unexpectedly (exit code "
                        f"{parser.process.exitcode}); it may be damaged."
                    ) from None
            if time.monotonic() > deadline:
                if starting:
                    raise RuntimeError(f"a parser process was not ready after {seconds:g} s")
                raise ParseLimitExceeded(
                    f"{name}: parsing took longer than {seconds:g} s, the limit for one document."
                )
            if not starting and parser.resident_bytes() > limit:
                raise self._memory_exceeded(name)

    def _memory_exceeded(self, name: str) -> ParseLimitExceeded:
        return ParseLimitExceeded(
            f"{name}: parsing needed more than {self.limits.max_memory_mb:,} MB of memory, "
            "the limit for one document."
        )
