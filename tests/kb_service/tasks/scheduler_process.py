"""One scheduler process for the two-process test: ticks the tasks' schedule until told to stop.

`python -m tests.kb_service.tasks.scheduler_process DATABASE_URL CLOCK_FILE STOP_FILE OUT_FILE`:
the clock is the ISO instant in CLOCK_FILE (the test moves it), read at every tick; the
process writes `OUT_FILE.ready` after its first tick and, when STOP_FILE appears, its
counts to OUT_FILE as JSON: `{"ticks", "fired", "errors"}` (errors: log records at
ERROR or above, e.g. a slot fired twice and refused by the unique slot key).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from kb_service.db.database import Database
from kb_service.workers.scheduler import Scheduler
from kb_service.workers.tasks.worker import task_schedule


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def main(url: str, clock_file: Path, stop_file: Path, out_file: Path) -> None:
    errors = _Count()
    logging.getLogger().addHandler(errors)
    db = Database(url)
    scheduler = Scheduler(
        db,
        [task_schedule()],
        poll_seconds=1,
        clock=lambda: datetime.fromisoformat(clock_file.read_text()),
    )
    ticks = fired = 0
    deadline = time.monotonic() + 120  # bounded even if the test dies
    while not stop_file.exists() and time.monotonic() < deadline:
        fired += scheduler.tick()
        ticks += 1
        if ticks == 1:
            out_file.with_suffix(".ready").write_text("ready")
        time.sleep(0.002)
    out_file.write_text(json.dumps({"ticks": ticks, "fired": fired, "errors": errors.count}))
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
