"""The wake-up index: each incident woken once, when the clock passes its time."""

from __future__ import annotations

from monitor.application.wakeups import WakeupIndex
from tests.unit.builders import T0, H, S


def test_incidents_wake_in_time_order_once_the_clock_is_past_their_time() -> None:
    index = WakeupIndex()
    index.schedule(0, "B", T0 + 2 * H)
    index.schedule(0, "A", T0 + H)
    assert index.due(0, T0 + H) == []
    assert index.due(0, T0 + 2 * H + S) == ["A", "B"]
    assert index.due(0, T0 + 10 * H) == []


def test_rescheduling_replaces_the_earlier_time_and_none_cancels() -> None:
    index = WakeupIndex()
    index.schedule(0, "A", T0 + H)
    index.schedule(0, "A", T0 + 5 * H)
    index.schedule(0, "B", T0 + H)
    index.schedule(0, "B", None)
    assert index.due(0, T0 + 2 * H) == []
    assert index.due(0, T0 + 6 * H) == ["A"]


def test_partitions_are_independent_and_can_be_forgotten() -> None:
    index = WakeupIndex()
    index.schedule(0, "A", T0)
    index.schedule(1, "B", T0)
    index.forget(1)
    assert index.due(1, T0 + H) == []
    assert index.due(0, T0 + H) == ["A"]
