"""The recording-clock use case over an in-memory store: events, ticks, wake-ups, eviction."""

from __future__ import annotations

from datetime import timedelta

from monitor.application.ports import InMemoryIncidentStore
from monitor.application.recording_clock import RecordingClock
from monitor.application.wakeups import WakeupIndex
from monitor.domain.inputs import ClosingCode
from monitor.domain.outcomes import AlertKind, AlertRaised, RecordingMeasured
from monitor.domain.policy import TimelinessPolicy
from tests.unit.builders import T0, H, S, closed, recorded, reported

POLICY = TimelinessPolicy(retention=timedelta(days=2))


def service() -> RecordingClock:
    return RecordingClock(InMemoryIncidentStore(), POLICY)


def test_an_event_is_folded_saved_and_announced_at_the_partition_clock() -> None:
    clock = service()
    changes = clock.handle(reported(), partition=0, now=T0 + 30 * H)
    assert [type(f) for f in changes.facts] == [AlertRaised, AlertRaised]
    assert clock.store.get("INC-1") == changes.changed[0]


def test_a_redelivered_event_changes_nothing_and_saves_nothing() -> None:
    clock = service()
    clock.handle(reported(), partition=0, now=T0)
    again = clock.handle(reported(), partition=0, now=T0)
    assert not again


def test_a_tick_announces_what_fell_due_and_only_on_its_own_partition() -> None:
    clock = service()
    clock.handle(reported(incident="INC-1"), partition=0, now=T0)
    clock.handle(reported(incident="INC-2"), partition=1, now=T0)
    assert not clock.tick(partition=0, now=T0 + 20 * H)  # the warning point itself: not yet
    changes = clock.tick(partition=0, now=T0 + 20 * H + S)
    assert [(f.incident_id, f.kind) for f in changes.facts] == [("INC-1", AlertKind.DUE_SOON)]
    overdue = clock.tick(partition=0, now=T0 + 25 * H)
    assert [f.kind for f in overdue.facts] == [AlertKind.OVERDUE]


def test_a_settled_incident_leaves_the_live_state_after_the_retention() -> None:
    clock = service()
    clock.handle(reported(), partition=0, now=T0)
    clock.handle(recorded(T0 + H), partition=0, now=T0 + H)
    assert not clock.tick(partition=0, now=T0 + H + 2 * 24 * H).evicted
    changes = clock.tick(partition=0, now=T0 + H + 2 * 24 * H + S)
    assert changes.evicted == ["INC-1"] and clock.store.get("INC-1") is None


def test_an_incident_still_awaiting_its_recording_is_never_evicted() -> None:
    clock = service()
    clock.handle(reported(), partition=0, now=T0 + 30 * H)
    assert not clock.tick(partition=0, now=T0 + 100 * 24 * H).evicted
    assert clock.store.get("INC-1") is not None


def test_the_wakeups_are_rebuilt_from_the_store_for_the_partitions_owned() -> None:
    store = InMemoryIncidentStore()
    first = RecordingClock(store, POLICY)
    first.handle(reported(incident="INC-1"), partition=0, now=T0)
    first.handle(reported(incident="INC-2"), partition=1, now=T0)
    second = RecordingClock(store, POLICY, WakeupIndex())  # another worker, same table
    second.rebuild(lambda key: 0 if key == "INC-1" else 1, {0})
    due = second.tick(partition=0, now=T0 + 25 * H).facts
    assert {f.incident_id for f in due} == {"INC-1"}
    assert not second.tick(partition=1, now=T0 + 25 * H)


def test_a_closing_is_announced_when_the_clock_passes_it() -> None:
    clock = service()
    clock.handle(reported(), partition=0, now=T0)
    clock.handle(closed(T0 + 2 * H, ClosingCode.NO_CRIME), partition=0, now=T0 + H)
    changes = clock.tick(partition=0, now=T0 + 2 * H + S)
    assert [type(f).__name__ for f in changes.facts] == ["ClosedWithoutCrime"]


def test_a_measurement_does_not_wait_for_the_clock() -> None:
    clock = service()
    clock.handle(reported(), partition=0, now=None)
    changes = clock.handle(recorded(T0 + H), partition=0, now=None)
    assert [type(f) for f in changes.facts] == [RecordingMeasured]
