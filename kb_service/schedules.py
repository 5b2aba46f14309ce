"""Schedule slots: the interval grid and cron expressions in a time zone.

A schedule's slots are instants (UTC). `next_slot` gives the interval grid
`anchor + k * interval`; `CronSchedule` gives the times a five-field cron expression
names on the wall clock of an IANA time zone, read with `croniter` and placed in
time with `zoneinfo`. Both answer "the first slot strictly after now", which is
what a scheduler needs to move a row on after firing (missed slots collapse into
one).

Daylight saving time, for cron: every wall-clock time the expression names fires
once. A time the clock shows twice (the hour repeated when it falls back) fires at
its first occurrence only; a time the clock skips (the hour lost when it springs
forward) fires at the instant it would have been without the jump, which the
clock shows one hour later (1:30 becomes 2:30 summer time). A 9:00 job stays at
9:00 local time on both sides of a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

# Longer than any daylight saving jump of the time zone database (Antarctica/Troll: 2 h).
_JUMP = timedelta(hours=3)
# How far ahead a cron expression may first fire: one that names no date within
# this many years (30 February) is refused.
MAX_SEARCH_YEARS = 5


class InvalidSchedule(ValueError):
    """A cron expression or time zone that cannot be scheduled; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def next_slot(anchor: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first slot `anchor + k * interval` (k >= 0) strictly after `now`."""
    if interval <= timedelta(0):
        raise ValueError("a schedule's interval must be positive")
    if now < anchor:
        return anchor
    return anchor + interval * ((now - anchor) // interval + 1)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`InvalidSchedule` if there is none)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            "timezone", f"Unknown time zone {name!r}: use an IANA name such as Europe/Lisbon."
        ) from None


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression (or @daily, @weekly, ...) on a time zone's wall clock."""

    expression: str
    zone: ZoneInfo

    @classmethod
    def parse(cls, expression: str, timezone: str) -> CronSchedule:
        """Validated: `InvalidSchedule` for a bad expression, an unknown zone, or no date."""
        zone = time_zone(timezone)
        expression = " ".join(expression.split())
        fields = expression.split(" ")
        if not (len(fields) == 5 or (len(fields) == 1 and expression.startswith("@"))):
            raise InvalidSchedule(
                "cron",
                f"The cron expression {expression!r} must have five fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 9 * * 1'.",
            )
        if expression == "@reboot" or not croniter.is_valid(expression):
            raise InvalidSchedule("cron", f"The cron expression {expression!r} is not valid.")
        schedule = cls(expression, zone)
        start = datetime(2000, 1, 1, tzinfo=UTC)
        try:
            first = schedule.next_after(start)
        except CroniterError:
            first = None
        if first is None or first - start > timedelta(days=366 * MAX_SEARCH_YEARS):
            raise InvalidSchedule(
                "cron", f"The cron expression {expression!r} names no date that exists."
            )
        return schedule

    def next_after(self, now: datetime) -> datetime:
        """The first slot strictly after `now` (an aware instant), in UTC."""
        wall = now.astimezone(self.zone).replace(tzinfo=None, fold=0)
        # Wall-clock order is not instant order across a jump: a skipped time lands
        # after the jump, behind wall times that follow it. So candidates start a
        # jump's length before `now` and run to a jump's length past the first hit,
        # and the earliest instant after `now` among them wins.
        times = croniter(self.expression, wall - _JUMP)
        best: tuple[datetime, datetime] | None = None
        while True:
            candidate = times.get_next(datetime)
            if best is not None and candidate > best[1] + _JUMP:
                return best[0]
            instant = self._instant(candidate)
            if instant > now and (best is None or instant < best[0]):
                best = (instant, candidate)

    def shortest_wall_gap(self, samples: int = 500) -> timedelta:
        """The least wall-clock time between consecutive times, over `samples` of them."""
        times = croniter(self.expression, datetime(2026, 1, 1))
        previous = times.get_next(datetime)
        shortest = timedelta.max
        for _ in range(samples):
            current = times.get_next(datetime)
            shortest = min(shortest, current - previous)
            previous = current
        return shortest

    def _instant(self, wall: datetime) -> datetime:
        # fold=0: a repeated time is its first occurrence; a skipped time takes the
        # offset before the jump (so it lands as far after the jump as it was into it).
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
