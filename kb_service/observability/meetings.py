"""What meeting callbacks and the meeting indexer record (`kb_meeting_*` metrics)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import ParamSpec, Protocol, TypeVar

from kb_service.db.base import utcnow
from kb_service.errors import ServiceError
from kb_service.observability.metrics import MEETING_CALLBACKS, MEETING_TIME_TO_SEARCHABLE


class _Outcome(Protocol):
    @property
    def result(self) -> str: ...


P = ParamSpec("P")
R = TypeVar("R", bound=_Outcome)


def counts_callbacks(handle: Callable[P, R]) -> Callable[P, R]:
    """Count each callback by its `result` (accepted, duplicate, ignored) or refusal code."""

    @functools.wraps(handle)
    def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            outcome = handle(*args, **kwargs)
        except ServiceError as exc:
            MEETING_CALLBACKS.labels(exc.code).inc()
            raise
        MEETING_CALLBACKS.labels(outcome.result).inc()
        return outcome

    return counted


def searchable(phase: str, since: Iterable[datetime]) -> None:
    """Points made live now for moments `since` (segment arrivals, or a meeting's end)."""
    now = utcnow()
    histogram = MEETING_TIME_TO_SEARCHABLE.labels(phase)
    for moment in since:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        histogram.observe(max(0.0, (now - aware).total_seconds()))
