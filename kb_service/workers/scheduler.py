"""Durable schedules: rows that come due at `next_run_at`, each slot fired exactly once.

A schedule is a table whose rows carry `next_run_at` (NULL: not scheduled). A
`Schedule` says how a row's next slot follows a moment (`next_after`: the interval
grid of `kb_service.schedules.next_slot`, or a cron expression in a time zone,
`CronSchedule.next_after`) and what firing a slot does (queue a sync job, a task
run, ...) inside the transaction that claims the slot.

Claiming a slot is a compare-and-set on `next_run_at`: the UPDATE that moves it from
the slot being fired to the next one matches only while the row still holds that
slot, so of two schedulers (threads or machines) reading the same due row exactly
one moves it and fires; the other's UPDATE matches nothing (PostgreSQL re-checks the
condition after the winner commits; SQLite has one writer). The next slot is the
first one after now, so slots missed while no scheduler ran (downtime) fire once,
not once per missed slot.

`Scheduler` runs the schedules on the polling/lease base; its `clock` is injectable,
so tests move time by hand and call `tick()` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.workers.base import Lane, PollingWorker

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Schedule:
    """One scheduled table: its model, how a row's slots follow each other, what a slot does.

    `model` has `id` and `next_run_at` columns; `next_after(row, now)` is the row's
    first slot strictly after `now` (None: no more slots); `fire(session, row, slot)`
    does the slot's work inside the claiming transaction (it commits with the claim,
    or neither happens).
    """

    name: str
    model: Any
    next_after: Callable[[Any, datetime], datetime | None]
    fire: Callable[[Session, Any, datetime], None]


class Scheduler(PollingWorker):
    """Fires the due slots of its schedules, on one lane (see the module docstring)."""

    after_failure = "the slot stays due and is fired at the next poll"

    def __init__(
        self,
        db: Database,
        schedules: Sequence[Schedule],
        *,
        poll_seconds: float,
        clock: Clock = utcnow,
        batch: int = 50,
    ) -> None:
        super().__init__(lanes=[Lane.new("kb-scheduler")], poll_seconds=poll_seconds)
        self.db = db
        self.schedules = tuple(schedules)
        self.clock = clock
        self.batch = batch

    def add(self, schedule: Schedule) -> None:
        """Fire `schedule` too, from the next tick on (safe while the loop runs)."""
        self.schedules = (*self.schedules, schedule)

    def work(self, lane: Lane) -> bool:
        return self.tick() >= self.batch

    def tick(self) -> int:
        """Fire every slot due now (at most `batch` per schedule); how many were fired."""
        now = self.clock()
        return sum(self._tick(schedule, now) for schedule in self.schedules)

    def _tick(self, schedule: Schedule, now: datetime) -> int:
        model = schedule.model
        with self.db.session() as session:
            due = session.execute(
                select(model.id, model.next_run_at)
                .where(model.next_run_at.is_not(None), model.next_run_at <= now)
                .order_by(model.next_run_at)
                .limit(self.batch)
            ).all()
        fired = 0
        for row_id, slot in due:
            try:
                fired += self._fire(schedule, row_id, slot, now)
            except Exception:  # one row's failure must not hold back the others
                log.exception("schedule %s: firing %s at %s failed", schedule.name, row_id, slot)
        return fired

    def _fire(self, schedule: Schedule, row_id: str, slot: datetime, now: datetime) -> bool:
        model = schedule.model
        with self.db.session() as session:
            row = session.get(model, row_id)
            if row is None or row.next_run_at != slot:
                return False
            following = schedule.next_after(row, now)
            won = session.execute(
                update(model)
                .where(model.id == row_id, model.next_run_at == slot)
                .values(next_run_at=following)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if not won:
                return False
            schedule.fire(session, row, slot)
            return True
