"""Cron slots in a time zone: wall-clock times across daylight saving changes, one each."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kb_service.schedules import CronSchedule, InvalidSchedule

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")


def _slots(expression: str, zone: str, start: datetime, count: int) -> list[datetime]:
    cron = CronSchedule.parse(expression, zone)
    found, moment = [], start
    for _ in range(count):
        moment = cron.next_after(moment)
        found.append(moment)
    return found


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        (LISBON, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC)),
        (NEW_YORK, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC)),
    ],
)
def test_a_weekly_nine_oclock_job_stays_at_nine_local_on_both_sides(
    zone: ZoneInfo, spring: datetime, autumn: datetime
) -> None:
    for start in (spring, autumn):
        slots = _slots("0 9 * * 1", zone.key, start, 4)
        local = [s.astimezone(zone) for s in slots]
        assert [(t.weekday(), t.hour, t.minute) for t in local] == [(0, 9, 0)] * 4
        gaps = {b - a for a, b in itertools.pairwise(slots)}
        # one of the weeks is an hour shorter or longer in real time: the clock moved
        assert gaps <= {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}
        assert len(gaps) == 2


def test_a_half_past_one_daily_job_fires_once_on_the_fall_back_day() -> None:
    # Lisbon, 25 October 2026: 2:00 summer time becomes 1:00, so 1:30 happens twice
    slots = _slots("30 1 * * *", "Europe/Lisbon", datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    days = [s.astimezone(LISBON).date().isoformat() for s in slots]
    assert days == ["2026-10-25", "2026-10-26", "2026-10-27"]
    assert slots[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 1:30
    # asked during the repeated hour (after the first 1:30), the next slot is tomorrow's
    second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 1:10 winter time
    assert CronSchedule.parse("30 1 * * *", "Europe/Lisbon").next_after(second_pass) == slots[1]


def test_a_skipped_time_fires_once_an_hour_after_the_jump_on_the_clock() -> None:
    # New York, 8 March 2026: 2:00 becomes 3:00, so 2:30 never shows
    slots = _slots("30 2 * * *", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC), 3)
    local = [s.astimezone(NEW_YORK) for s in slots]
    assert [(t.day, t.hour, t.minute) for t in local] == [(8, 3, 30), (9, 2, 30), (10, 2, 30)]


def test_an_hourly_job_fires_once_per_real_hour_across_spring_forward() -> None:
    slots = _slots("0 * * * *", "America/New_York", datetime(2026, 3, 8, 5, tzinfo=UTC), 4)
    assert [s - slots[0] for s in slots] == [timedelta(hours=h) for h in range(4)]


@pytest.mark.parametrize(
    ("expression", "zone", "field"),
    [
        ("every monday", "UTC", "cron"),
        ("61 * * * *", "UTC", "cron"),
        ("0 0 9 * * 1", "UTC", "cron"),  # six fields: seconds are not schedulable
        ("0 0 30 2 *", "UTC", "cron"),  # 30 February never comes
        ("@reboot", "UTC", "cron"),
        ("0 9 * * 1", "Mars/Olympus_Mons", "timezone"),
        ("0 9 * * 1", "", "timezone"),
    ],
)
def test_bad_expressions_and_zones_are_refused_naming_the_field(
    expression: str, zone: str, field: str
) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        CronSchedule.parse(expression, zone)
    assert refused.value.field == field and str(refused.value)


def test_the_shortest_wall_clock_gap_is_found() -> None:
    assert CronSchedule.parse("*/5 * * * *", "UTC").shortest_wall_gap() == timedelta(minutes=5)
    assert CronSchedule.parse("0,59 0,23 * * *", "UTC").shortest_wall_gap() == timedelta(minutes=1)
    assert CronSchedule.parse("@weekly", "UTC").shortest_wall_gap() == timedelta(days=7)
