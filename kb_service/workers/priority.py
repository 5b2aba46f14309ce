"""Background threads yield the CPU to request handling.

On 2 cores, a model call in an ingestion or meeting-indexer thread (and the OpenMP
threads torch starts for it) would otherwise compete as an equal with the event loop
and the request threads, and callbacks or queries would wait behind a batch of
embeddings. Linux keeps a nice value per thread, and threads inherit it from the thread
that creates them, so lowering it at the start of a background thread, before its first
model call, also lowers the torch threads that call creates. When nothing else wants the
CPU a niced thread runs at full speed, so throughput is unchanged.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = 10


def lower_current_thread_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread (and threads it starts later) yield to foreground work."""
    if not hasattr(os, "setpriority"):  # not POSIX: leave the priority alone
        return
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, niceness))
    except OSError as exc:  # e.g. a sandbox refusing it: correct, just less responsive
        log.debug("could not lower the priority of thread %s: %s", tid, exc)
