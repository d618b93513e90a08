"""Each partition's clock: the least of its inputs' watermarks, never ahead of what was read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.application.watermarks import PartitionClock, SourceProgress, source_watermark
from tests.unit.builders import T0, H

NOW = T0 + 100 * H


def progress(next_offset: int | None, latest_hours: float | None) -> SourceProgress:
    latest = None if latest_hours is None else T0 + timedelta(hours=latest_hours)
    return SourceProgress(next_offset=next_offset, latest_event_time=latest)


@pytest.mark.parametrize(
    ("read", "highwater", "resume", "expected"),
    [
        (progress(10, 5), 10, None, NOW),  # read everything the broker holds: known up to now
        (progress(7, 5), 10, None, T0 + 5 * H),  # behind: known up to the latest event read
        (progress(None, None), 0, 0, NOW),  # an empty partition
        (progress(None, None), 10, 10, NOW),  # nothing new since the committed offset
        (progress(None, None), 10, 4, None),  # a backlog not yet read: unknown
        (progress(None, None), None, 0, None),  # highwater not fetched yet: unknown
        (progress(3, 500), 10, None, NOW),  # an event stamped in the future: capped at now
    ],
)
def test_a_source_is_known_up_to_now_when_caught_up_else_up_to_what_was_read(
    read, highwater, resume, expected
):
    assert (
        source_watermark(read, highwater=highwater, resume_offset=resume, wall_now=NOW) == expected
    )


def test_a_partition_clock_waits_until_every_crime_partition_has_reported() -> None:
    clock = PartitionClock()
    clock.observe_crime_marks(3, {0: T0 + 10 * H, 1: T0 + 12 * H})
    assert clock.advance(T0 + 20 * H, timedelta(0)) is None
    clock.observe_crime_marks(3, {2: T0 + 11 * H})
    assert clock.advance(T0 + 20 * H, timedelta(0)) == T0 + 10 * H


def test_a_partition_clock_is_the_least_watermark_less_the_allowed_lateness() -> None:
    clock = PartitionClock()
    clock.observe_crime_marks(2, {0: T0 + 10 * H, 1: T0 + 12 * H})
    assert clock.advance(T0 + 9 * H, timedelta(minutes=30)) == T0 + 8.5 * H


def test_a_partition_clock_never_runs_backwards() -> None:
    clock = PartitionClock()
    clock.observe_crime_marks(1, {0: T0 + 10 * H})
    assert clock.advance(T0 + 10 * H, timedelta(0)) == T0 + 10 * H
    clock.observe_crime_marks(1, {0: T0 + 5 * H})  # an older mark, from a worker catching up
    assert clock.advance(T0 + 6 * H, timedelta(0)) == T0 + 10 * H


def test_a_partition_clock_without_its_incidents_mark_does_not_move() -> None:
    clock = PartitionClock()
    clock.observe_crime_marks(1, {0: T0 + 10 * H})
    assert clock.advance(None, timedelta(0)) is None
