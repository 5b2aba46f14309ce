"""The schedule grid: the next slot after a moment, whatever the gap since the last run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb_service.schedules import next_slot

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


@given(
    minutes=st.integers(min_value=1, max_value=10_000),
    offset=st.integers(min_value=-(10**7), max_value=10**9),
)
def test_the_next_slot_is_the_first_grid_point_after_now(minutes: int, offset: int) -> None:
    interval = timedelta(minutes=minutes)
    now = ANCHOR + timedelta(seconds=offset)
    slot = next_slot(ANCHOR, interval, now)
    assert slot > now or (now < ANCHOR and slot == ANCHOR)
    assert (slot - ANCHOR) % interval == timedelta(0)
    assert slot - interval <= now or slot == ANCHOR


def test_a_slot_exactly_now_moves_on_and_intervals_must_be_positive() -> None:
    interval = timedelta(minutes=10)
    assert next_slot(ANCHOR, interval, ANCHOR + interval) == ANCHOR + 2 * interval
    with pytest.raises(ValueError):
        next_slot(ANCHOR, timedelta(0), ANCHOR)
