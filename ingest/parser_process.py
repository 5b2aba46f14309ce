"""The parser process: parses and chunks files sent to it, one at a time, until told to stop.

`serve` is the body of each process that `ParserPool` starts. It builds its own
`IngestPipeline` from a `ParserSetup` (the parent's window, with a picklable token
counter, and extractor options), caps its address space at what it had after warming
up plus the memory limit (so an allocation past the limit fails as a MemoryError
instead of growing without bound), says "ready", and then answers each
`(SourceFile, ChunkingConfig)` with one of

    ("ok", PreparedDocument)              parsed and chunked
    ("error", class name, message)        an IngestError: the document's fault
    ("memory",)                           a MemoryError under the address-space cap
    ("internal", detail)                  any other exception (the parent logs it)

It dies with the process that forked it (Linux `PR_SET_PDEATHSIG`) and ignores
SIGINT, so a Ctrl-C reaches only the service, which stops it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ingest.archives import ArchiveLimits
from ingest.errors import IngestError
from ingest.extract import Extractor
from ingest.ocr import OcrLimits
from ingest.pipeline import IngestPipeline
from ingest.window import ModelWindow

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ParserSetup:
    """What a parser process needs to build a pipeline equal to the service's (picklable)."""

    window: ModelWindow
    pdf_strategy: str
    max_pages: int
    archive_limits: ArchiveLimits
    ocr_limits: OcrLimits

    @classmethod
    def of(cls, pipeline: IngestPipeline) -> ParserSetup:
        extractor = pipeline.extractor
        return cls(
            pipeline.window,
            extractor.pdf_strategy,
            extractor.max_pages,
            extractor.archive_limits,
            extractor.ocr_limits,
        )

    def build(self) -> IngestPipeline:
        extractor = Extractor(
            pdf_strategy=self.pdf_strategy,
            max_pages=self.max_pages,
            archive_limits=self.archive_limits,
            ocr_limits=self.ocr_limits,
        )
        return IngestPipeline(window=self.window, extractor=extractor)


def serve(conn: Connection, setup: ParserSetup, max_memory_bytes: int) -> None:
    """Answer parse requests on `conn` until it closes or sends None (see the module)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    pipeline = setup.build()
    pipeline.warm_up()  # already done when forked from the warm fork server
    _cap_address_space(max_memory_bytes)
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        source, config = request
        conn.send(_answer(pipeline, source, config))


def _answer(pipeline: IngestPipeline, source: Any, config: Any) -> tuple[Any, ...]:
    try:
        return ("ok", pipeline.prepare_file(source, config))
    except IngestError as exc:
        return ("error", type(exc).__name__, exc.message)
    except MemoryError:
        return ("memory",)
    except Exception as exc:
        return ("internal", f"{type(exc).__name__}: {exc}")


def _die_with_parent() -> None:
    # Not Linux: no prctl, and the closed pipe still ends the loop.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _cap_address_space(max_memory_bytes: int) -> None:
    """Allow `max_memory_bytes` of address space beyond what the warm process maps now."""
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: the parent's resident-memory watch still applies
        return
    cap = mapped + max_memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
