"""Running one claimed task run: answer its prompt over its scope, then record it at once.

The answer comes from the search service behind `POST /search`
(`services.search.search_organization`: the scope resolved in SQL, live chunks
retrieved, the answer composed by `services.answers`), narrowed to content created
and meetings held since the run's `window_start`. Then one transaction, fenced on
the run's lease, writes the outcome and its outbox event:

| what happened | run | event |
|---|---|---|
| an answer (found or not) | `completed`: answer, citations, `found`, confidence, stage timings | `task.completed` |
| the scope or the answerer no longer works (a knowledge base deleted, no LLM) | `failed`: the sentence why | `task.failed` |
| anything else went wrong | `failed`: a generic sentence (the cause is logged) | `task.failed` |
| claimed `MAX_ATTEMPTS` times without finishing (its workers died) | `failed` | `task.failed` |

A worker that dies mid-run has written nothing; the lease expires and the run is
claimed again. A run whose task was deleted meanwhile writes nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.events import record_event
from kb_service.db.tasks import Task, TaskRun
from kb_service.errors import ServiceError
from kb_service.services.answers import QueryResult
from kb_service.services.query_engine import QueryEngine
from kb_service.services.search import QueryRequest, search_organization
from kb_service.services.search_scope import QueryFilter
from kb_service.services.task_runs import run_event
from kb_service.statuses import TaskRunStatus
from kb_service.workers.lease_queue import LeaseLost, LeaseQueue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_INTERNAL = "The run failed on our side; it was logged. Run the task again."


class RunQueue(LeaseQueue):
    """Task runs under leases; one run of a task at a time."""

    table = "task_runs"
    group = "task_id"


@dataclass
class _Outcome:
    status: TaskRunStatus
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class TaskRunner:
    """Runs claimed task runs (see the module docstring)."""

    def __init__(self, *, db: Database, engine: QueryEngine, queue: RunQueue) -> None:
        self.db = db
        self.engine = engine
        self.queue = queue

    def run(self, run_id: str, owner: str, attempts: int) -> TaskRunStatus | None:
        """Answer the run `owner` has claimed; its final status (None: nothing written)."""
        request = self._load(run_id)
        if request is None:
            return None
        if attempts > MAX_ATTEMPTS:
            error = f"The run was interrupted {attempts - 1} times (its worker stopped each time)."
            return self._finish(run_id, owner, _Outcome(TaskRunStatus.FAILED, error))
        stop = threading.Event()
        keeper = threading.Thread(
            target=self.queue.keep_alive, args=(run_id, owner, stop), daemon=True
        )
        keeper.start()
        try:
            outcome = self._answer(*request)
        finally:
            stop.set()
        return self._finish(run_id, owner, outcome)

    def _load(self, run_id: str) -> tuple[str, dict[str, Any], QueryRequest] | None:
        with self.db.session() as session:
            run = session.get(TaskRun, run_id)
            task = session.get(Task, run.task_id) if run else None
            if run is None or task is None:
                return None
            answerer = cast(Literal["extractive", "generative"] | None, task.answerer)
            request = QueryRequest(
                query=run.prompt,
                top_k=task.top_k,
                answerer=answerer,
                filters=QueryFilter(created_after=run.window_start),
            )
            return task.organization_id, dict(task.scope), request

    def _answer(
        self, organization_id: str, scope: dict[str, Any], request: QueryRequest
    ) -> _Outcome:
        try:
            result = search_organization(
                self.db,
                engine=self.engine,
                organization_id=organization_id,
                request=request,
                knowledge_base_ids=scope.get("knowledge_base_ids"),
                project_ids=scope.get("project_ids"),
                include_meetings=bool(scope.get("include_meetings", True)),
                # the task's stored scope is the run's: a scoped key could only save it
                # inside its own scope (`scopes.task_names`), and keys change later
                key_scope=None,
            )
        except ServiceError as exc:
            return _Outcome(TaskRunStatus.FAILED, exc.message)
        except Exception:  # the run fails alone; the loop goes on
            log.exception("task run failed while answering")
            return _Outcome(TaskRunStatus.FAILED, _INTERNAL)
        return _Outcome(TaskRunStatus.COMPLETED, fields=_answered(result))

    def _finish(self, run_id: str, owner: str, outcome: _Outcome) -> TaskRunStatus | None:
        try:
            with self.db.session() as session:
                self.queue.fence(session, run_id, owner)
                run = session.get(TaskRun, run_id)
                task = session.get(Task, run.task_id) if run else None
                if run is None or task is None:
                    return None
                run.status, run.error = outcome.status, outcome.error
                for name, value in outcome.fields.items():
                    setattr(run, name, value)
                run.finished_at = utcnow()
                run.lease_owner, run.lease_expires_at = None, None
                session.flush()
                completed = outcome.status == TaskRunStatus.COMPLETED
                record_event(
                    session,
                    organization_id=run.organization_id,
                    type="task.completed" if completed else "task.failed",
                    data=run_event(run, task),
                )
                return outcome.status
        except LeaseLost:
            return None


def _answered(result: QueryResult) -> dict[str, Any]:
    """The run's columns from a composed answer (as `POST /search` shows it)."""
    answer, verdict = result.answer, result.answerability
    found = verdict.found and (answer.found if answer else True)
    return {
        "answer": answer.text if answer else None,
        "answerer": answer.answerer if answer else None,
        "citations": [c.to_dict() for c in answer.citations] if answer else [],
        "found": found,
        "confidence": verdict.confidence,
        "notice": result.notice,
        "timings": {stage: round(ms, 2) for stage, ms in result.timings.stages().items()},
    }
