"""The task run loop and the tasks' schedule.

`TaskRunWorker` lanes claim queued runs (`runner.RunQueue`) and answer them
(`runner.TaskRunner`). `task_schedule()` is the `workers.scheduler.Schedule` of
tasks: a due slot queues a run (`services.task_runs.queue_scheduled_run`), and the
task's next slot follows its cron expression or interval (`services.tasks.next_run`).
"""

from __future__ import annotations

from kb_service.db.tasks import Task
from kb_service.services.task_runs import queue_scheduled_run
from kb_service.services.tasks import next_run
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.scheduler import Schedule
from kb_service.workers.tasks.runner import TaskRunner


def task_schedule() -> Schedule:
    """Slots of each enabled task's cron expression (in its time zone) or interval."""
    return Schedule(name="tasks", model=Task, next_after=next_run, fire=queue_scheduled_run)


class TaskRunWorker(PollingWorker):
    """Lanes that each claim one run at a time and answer it."""

    def __init__(self, *, runner: TaskRunner, count: int, poll_seconds: float) -> None:
        lanes = [Lane.new(f"kb-task-run-{n}") for n in range(count)]
        super().__init__(lanes=lanes, poll_seconds=poll_seconds)
        self.runner = runner

    def work(self, lane: Lane) -> bool:
        return self.run_once(lane.owner)

    def run_once(self, owner: str) -> bool:
        """Claim and answer one run as `owner` in this thread; False when none was claimable."""
        claimed = self.runner.queue.claim(owner)
        if claimed is None:
            return False
        self.runner.run(claimed[0], owner, claimed[1])
        return True
