"""Two real scheduler processes on one database (PostgreSQL, and one SQLite file) fire
each task's slots exactly once between them.

Both processes tick the tasks' schedule as fast as they can against a clock this test
moves slot by slot (a file both read), so every slot is due in both at once and they
race for it: the compare-and-set on `next_run_at` must let exactly one fire it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kb_service.db.database import Database
from kb_service.db.tasks import Task, TaskRun
from kb_service.services.keys import get_or_create_organization
from kb_service.services.tasks import TaskLimits, TaskSchedule, TaskSpec, create_task
from tests.conftest import ROOT, postgres_url_or_skip

TASKS, SLOTS = 5, 6
LIMITS = TaskLimits(min_interval_minutes=1, max_enabled_per_org=50, generative_available=False)


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_scheduler_processes_fire_each_slot_once(backend: str, tmp_path: Path) -> None:
    url = postgres_url_or_skip() if backend == "postgresql" else f"sqlite:///{tmp_path / 'kb.db'}"
    db = Database(url)
    db.migrate()
    org = get_or_create_organization(db, name="acme")
    spec = TaskSpec(name="t", prompt="What changed?", schedule=TaskSchedule(interval_minutes=10))
    ids = [
        create_task(db, organization_id=org.id, spec=spec, limits=LIMITS).id for _ in range(TASKS)
    ]
    with db.session() as session:
        anchors = {t.id: t.schedule_anchor for t in session.scalars(select(Task))}
    latest = max(a for a in anchors.values() if a)
    clock, stop = tmp_path / "clock", tmp_path / "stop"

    def set_clock(slot: int) -> None:
        (tmp_path / "clock.tmp").write_text(
            (latest + timedelta(minutes=10 * slot, seconds=1)).isoformat()
        )
        os.replace(tmp_path / "clock.tmp", clock)

    def runs() -> list[TaskRun]:
        with db.session() as session:
            return list(session.scalars(select(TaskRun)))

    set_clock(0)
    outs = [tmp_path / f"out{n}.json" for n in range(2)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.kb_service.tasks.scheduler_process",
                url,
                str(clock),
                str(stop),
                str(out),
            ],
            cwd=ROOT,
        )
        for out in outs
    ]
    try:
        _wait(lambda: all(o.with_suffix(".ready").exists() for o in outs), 60, "both processes")
        for slot in range(1, SLOTS + 1):
            set_clock(slot)
            _wait(lambda: len(runs()) >= TASKS * slot, 30, f"slot {slot}")  # noqa: B023
            time.sleep(0.2)  # both processes tick again with this clock
        assert len(runs()) == TASKS * SLOTS
    finally:
        stop.write_text("stop")
        for process in processes:
            process.wait(30)
    reports = [json.loads(o.read_text()) for o in outs]
    assert all(r["ticks"] > 10 and r["errors"] == 0 for r in reports), reports
    assert sum(r["fired"] for r in reports) == TASKS * SLOTS, reports
    by_task: dict[str, list] = {}
    for run in runs():
        by_task.setdefault(run.task_id, []).append(run.scheduled_for)
    assert set(by_task) == set(ids)
    for task_id, slots in by_task.items():
        anchor = anchors[task_id]
        assert anchor is not None
        assert sorted(slots) == [anchor + timedelta(minutes=10 * k) for k in range(1, SLOTS + 1)]
    db.dispose()
