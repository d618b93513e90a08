"""The backlog gauges: incidents awaiting recording and overdue, by each partition's clock."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from monitor.application.backlog import BacklogIndex, TrackedIncidentStore
from monitor.application.ports import InMemoryIncidentStore
from monitor.application.recording_clock import RecordingClock
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import ClosingCode
from monitor.domain.policy import TimelinessPolicy
from streams.gauges import LiveGauges
from tests.unit.builders import T0, H, S, closed, flagged, recorded, reported

POLICY = TimelinessPolicy()


def state(*events) -> IncidentState:  # type: ignore[no-untyped-def]
    current = IncidentState(events[0].incident_id)
    for event in events:
        current = apply(current, event)
    return current


def counts(index: BacklogIndex, now, partitions=(0,)):  # type: ignore[no-untyped-def]
    backlog = index.summarize({p: now for p in partitions})
    return {k: (c.awaiting, c.overdue) for k, c in backlog.counts.items()}


KEY = ("leicestershire", "violence", "city")


def test_an_incident_awaits_recording_and_is_overdue_once_its_clock_is_past_the_deadline() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0)))
    assert counts(index, T0 + H) == {KEY: (1, 0)}
    assert counts(index, T0 + 24 * H) == {KEY: (1, 0)}  # exactly at the deadline: in time
    assert counts(index, T0 + 24 * H + S) == {KEY: (1, 1)}


def test_recorded_closed_and_non_crime_incidents_are_not_awaiting() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0, "A"), recorded(T0 + H, incident="A")))
    index.record(0, state(reported(T0, "B"), closed(T0 + H, ClosingCode.NO_CRIME, "B")))
    index.record(0, state(reported(T0, "C", crime_related=False)))
    index.record(0, state(reported(T0, "D"), closed(T0 + H, ClosingCode.CRIME_RECORDED, "D")))
    assert counts(index, T0 + 30 * H) == {KEY: (1, 1)}  # only D: closing as recorded is no record


def test_an_incident_flagged_after_its_deadline_is_overdue_at_once_in_its_new_category() -> None:
    index = BacklogIndex(POLICY)
    late = state(
        reported(T0, crime_related=False, category="asb"),
        flagged(T0 + 25 * H, category="harassment"),
    )
    index.record(0, late)
    harassment = ("leicestershire", "harassment", "city")
    assert counts(index, T0 + 25 * H) == {harassment: (1, 0)}  # its overdue point is the flag
    assert counts(index, T0 + 25 * H + S) == {harassment: (1, 1)}


def test_a_recording_takes_the_incident_off_the_board() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0)))
    index.record(0, state(reported(T0), recorded(T0 + 30 * H)))
    assert counts(index, T0 + 31 * H) == {}


def test_only_the_partitions_given_are_counted_each_by_its_own_clock() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0, "A")))
    index.record(1, state(reported(T0, "B", division="blaby")))
    index.record(2, state(reported(T0, "C")))
    backlog = index.summarize({0: T0 + 30 * H, 1: T0 + H})  # partition 2 is not owned
    assert {k: (c.awaiting, c.overdue) for k, c in backlog.counts.items()} == {
        KEY: (1, 1),
        ("leicestershire", "violence", "blaby"): (1, 0),
    }
    assert backlog.oldest_age_seconds == {
        ("leicestershire", "city"): 30 * 3600.0,
        ("leicestershire", "blaby"): 3600.0,
    }


def test_a_partition_whose_clock_is_unknown_counts_awaiting_but_no_overdue_and_no_age() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0)))
    backlog = index.summarize({0: None})
    assert {k: (c.awaiting, c.overdue) for k, c in backlog.counts.items()} == {KEY: (1, 0)}
    assert backlog.oldest_age_seconds == {}


def test_the_oldest_age_is_that_of_the_earliest_report_waiting() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0, "A")))
    index.record(0, state(reported(T0 + 5 * H, "B")))
    backlog = index.summarize({0: T0 + 10 * H})
    assert backlog.oldest_age_seconds == {("leicestershire", "city"): 10 * 3600.0}


def test_rebuilding_keeps_only_the_owned_partitions_of_the_store() -> None:
    # A memory table keeps the keys of revoked partitions: they must not count.
    states = [state(reported(T0, f"INC-{n}")) for n in range(6)]
    index = BacklogIndex(POLICY)
    index.rebuild(lambda key: int(key[-1]) % 3, {0, 1}, states)
    assert len(index) == 4
    assert counts(index, T0 + H, partitions=(0, 1, 2)) == {KEY: (4, 0)}


def test_the_index_kept_in_step_with_the_clocks_writes_equals_one_rebuilt_from_the_store() -> None:
    store = InMemoryIncidentStore()
    index = BacklogIndex(POLICY)
    partition_of = lambda key: hash(key) % 2  # noqa: E731
    service = RecordingClock(
        TrackedIncidentStore(store, index, partition_of),
        TimelinessPolicy(retention=timedelta(hours=1)),
    )
    events = [
        reported(T0, "A"),
        reported(T0, "B"),
        reported(T0 + H, "C", division="blaby"),
        recorded(T0 + 2 * H, incident="A"),
        closed(T0 + 3 * H, ClosingCode.NO_CRIME, "C"),
        reported(T0 + 3 * H, "D", crime_related=False),
        flagged(T0 + 4 * H, "D"),
    ]
    for event in events:
        service.handle(event, partition=partition_of(event.incident_id), now=T0 + 5 * H)
    for partition in (0, 1):  # settled incidents expire and are deleted
        service.tick(partition=partition, now=T0 + 40 * H)
    clocks = {0: T0 + 40 * H, 1: T0 + 40 * H}
    rebuilt = BacklogIndex(POLICY)
    rebuilt.rebuild(partition_of, {0, 1}, store.states())
    assert index.summarize(clocks) == rebuilt.summarize(clocks)
    assert len(index) == 2  # B and D
    assert "A" not in store.data  # expired: the delete went through the tracked store


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def scrape(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_the_backlog_is_summed_at_most_once_per_refresh_and_the_lag_at_each_scrape() -> None:
    index = BacklogIndex(POLICY)
    index.record(0, state(reported(T0, "A")))
    lag = [("incidents", 0, 7)]
    monotonic = FakeClock()
    gauges = LiveGauges(
        index, lambda: {0: T0 + 30 * H}, lambda: list(lag), refresh_seconds=5, monotonic=monotonic
    )
    registry = CollectorRegistry()
    registry.register(gauges)
    labels = {"force": "leicestershire", "category": "violence", "division": "city"}
    assert scrape(registry, "cdi_incidents_awaiting_recording", **labels) == 1
    assert scrape(registry, "cdi_incidents_overdue", **labels) == 1
    place = {"force": "leicestershire", "division": "city"}
    assert scrape(registry, "cdi_oldest_unrecorded_incident_age_seconds", **place) == 30 * 3600
    assert scrape(registry, "cdi_assigned_partitions") == 1
    assert scrape(registry, "cdi_consumer_lag_messages", topic="incidents", partition="0") == 7

    index.record(0, state(reported(T0, "B")))
    lag[0] = ("incidents", 0, 3)
    monotonic.now = 4.9
    assert scrape(registry, "cdi_incidents_awaiting_recording", **labels) == 1  # cached
    assert scrape(registry, "cdi_consumer_lag_messages", topic="incidents", partition="0") == 3
    monotonic.now = 5.0
    assert scrape(registry, "cdi_incidents_awaiting_recording", **labels) == 2
