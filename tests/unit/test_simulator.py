"""The simulator: a realistic, deterministic stream of upstream events on the wire contract."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from monitor.adapters.clock import AcceleratedClock
from monitor.devtools.simulate import ForceProfile, SimEvent, SimSummary, Simulation, publish
from schemas.crimes import CrimeEvent
from schemas.incidents import IncidentEvent

START = datetime(2024, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TARGET = timedelta(hours=24)
PROFILE = ForceProfile()
ADAPTERS = {"incidents": TypeAdapter(IncidentEvent), "crime-records": TypeAdapter(CrimeEvent)}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Story:
    """A simulated stream read back the way an auditor would, from the events alone."""

    events: list[SimEvent]
    window_end: datetime
    reports: dict[str, dict] = field(default_factory=dict)
    report_published: dict[str, datetime] = field(default_factory=dict)
    updates: dict[str, dict] = field(default_factory=dict)
    closes: dict[str, dict] = field(default_factory=dict)
    crimes: list[tuple[SimEvent, dict]] = field(default_factory=list)
    cancellations: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for event in self.events:
            if event.redelivered:
                continue
            data, kind = event.value["data"], event.event_type
            if kind == "cdi.incident.reported":
                self.reports[data["incident_id"]] = data
                self.report_published[data["incident_id"]] = event.publish_at
            elif kind == "cdi.incident.updated":
                self.updates[data["incident_id"]] = data
            elif kind == "cdi.incident.closed":
                self.closes[data["incident_id"]] = data
            elif kind == "cdi.crime.recorded":
                self.crimes.append((event, data))
            else:
                self.cancellations[data["crime_id"]] = data
        self.linked = {i for _, crime in self.crimes for i in crime["incident_ids"]}

    def reported_in_window(self, crime_related: bool) -> list[str]:
        return [
            incident_id
            for incident_id, report in self.reports.items()
            if at(report["reported_at"]) < self.window_end
            and report["crime_related"] is crime_related
        ]

    def crimes_in_window(self, days: float | None = None) -> list[tuple[SimEvent, dict]]:
        end = self.window_end if days is None else START + timedelta(days=days)
        return [(e, crime) for e, crime in self.crimes if at(crime["recorded_at"]) < end]

    def first_report(self, crime: dict) -> dict:
        return self.reports[crime["incident_ids"][0]]


@pytest.fixture(scope="module")
def week() -> list[SimEvent]:
    return list(Simulation(seed=7).events(START, START + 7 * DAY))


@pytest.fixture(scope="module")
def month() -> Story:
    # Ten days beyond the window let late records and closings of its incidents arrive.
    events = list(Simulation(seed=11).events(START, START + 40 * DAY))
    return Story(events, window_end=START + 30 * DAY)


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def crime_related_share(s: Story) -> float:
    crime_related = len(s.reported_in_window(True))
    return share(crime_related, crime_related + len(s.reported_in_window(False)))


def late_share(s: Story) -> float:
    linked = [c for _, c in s.crimes if c["incident_ids"]]
    in_window = [c for c in linked if at(s.first_report(c)["reported_at"]) < s.window_end]
    late = [
        c for c in in_window if at(c["recorded_at"]) - at(s.first_report(c)["reported_at"]) > TARGET
    ]
    return share(len(late), len(in_window))


def never_recorded_share(s: Story) -> float:
    crime_related = s.reported_in_window(True)
    never = [i for i in crime_related if i not in s.linked and i not in s.closes]
    return share(len(never), len(crime_related))


def closed_without_crime_share(s: Story) -> float:
    crime_related = s.reported_in_window(True)
    closed = [
        i
        for i in crime_related
        if i not in s.linked
        and s.closes.get(i, {}).get("closing_code") in ("no_crime", "non_crime_incident")
    ]
    return share(len(closed), len(crime_related))


def triage_share(s: Story) -> float:
    non_crime = s.reported_in_window(False)
    flagged = [i for i in non_crime if s.updates.get(i, {}).get("crime_related") is True]
    return share(len(flagged), len(non_crime))


def unlinked_share(s: Story) -> float:
    crimes = s.crimes_in_window()
    return share(sum(not c["incident_ids"] for _, c in crimes), len(crimes))


def multi_incident_share(s: Story) -> float:
    crimes = s.crimes_in_window()
    return share(sum(len(c["incident_ids"]) > 1 for _, c in crimes), len(crimes))


def cancelled_share(s: Story) -> float:
    # Cancellations come up to 28 days after the record: count early records only.
    crimes = s.crimes_in_window(days=12)
    return share(sum(c["crime_id"] in s.cancellations for _, c in crimes), len(crimes))


def redelivery_share(s: Story) -> float:
    copies = sum(e.redelivered for e in s.events)
    return share(copies, len(s.events) - copies)


def out_of_order_share(s: Story) -> float:
    linked = [(e, c) for e, c in s.crimes_in_window() if c["incident_ids"]]
    early = [e for e, c in linked if e.publish_at < s.report_published[c["incident_ids"][0]]]
    return share(len(early), len(linked))


@pytest.mark.parametrize(
    ("measure", "expected", "tolerance"),
    [
        # Repeat calls are crime-related too and add about half a point.
        (crime_related_share, PROFILE.crime_related_share, 0.015),
        (late_share, PROFILE.late_share, 0.012),
        (never_recorded_share, PROFILE.never_recorded_share, 0.006),
        (closed_without_crime_share, PROFILE.closed_without_crime_share, 0.01),
        (triage_share, PROFILE.triage_share, 0.008),
        (unlinked_share, PROFILE.unlinked_share, 0.006),
        # Unlinked crimes cannot link several incidents.
        (multi_incident_share, PROFILE.multi_incident_share * (1 - PROFILE.unlinked_share), 0.008),
        (cancelled_share, PROFILE.cancelled_share, 0.008),
        (redelivery_share, PROFILE.redelivery_share, 0.0015),
        (out_of_order_share, PROFILE.out_of_order_share, 0.004),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_over_30_days_the_proportions_are_those_of_the_profile(
    month: Story, measure: Callable[[Story], float], expected: float, tolerance: float
):
    assert measure(month) == pytest.approx(expected, abs=tolerance)


def test_every_event_of_a_simulated_week_validates_against_the_wire_schemas(week):
    assert len(week) > 5000
    for event in week:
        adapter = ADAPTERS[event.topic]
        model = adapter.validate_json(event.to_bytes(), strict=True)
        # Round trip: every field we send is one the schema names, spelt its way.
        assert adapter.dump_python(model, mode="json", exclude_none=True) == event.value


def test_every_kind_of_upstream_event_appears_in_a_month(month):
    kinds = Counter(e.event_type for e in month.events)
    assert set(kinds) == {
        "cdi.incident.reported", "cdi.incident.updated", "cdi.incident.closed",
        "cdi.crime.recorded", "cdi.crime.cancelled",
    }  # fmt: skip
    codes = Counter(c["closing_code"] for c in month.closes.values())
    assert set(codes) == {"crime_recorded", "no_crime", "non_crime_incident", "other", "duplicate"}


def test_events_come_in_non_decreasing_publish_order(week):
    assert all(a.publish_at <= b.publish_at for a, b in itertools.pairwise(week))
    assert week[0].publish_at >= START


def test_the_cloud_event_time_is_when_it_was_first_published(week):
    for event in week:
        sent = at(event.value["time"])
        assert event.value["time"].endswith("Z")
        assert sent < event.publish_at if event.redelivered else sent == event.publish_at


def test_the_same_seed_gives_identical_bytes_and_another_seed_differs():
    def day(seed: int) -> list[bytes]:
        return [e.to_bytes() for e in Simulation(seed=seed).events(START, START + DAY)]

    assert day(3) == day(3)
    assert day(3) != day(4)


def test_event_ids_are_unique_except_for_redeliveries(month):
    ids = Counter(e.value["id"] for e in month.events)
    copies = sum(e.redelivered for e in month.events)
    assert sum(n - 1 for n in ids.values()) == copies
    assert max(ids.values()) == 2


def test_a_redelivered_event_repeats_the_id_and_the_bytes_of_the_original(month):
    originals = {e.value["id"]: e for e in month.events if not e.redelivered}
    copies = [e for e in month.events if e.redelivered]
    assert copies
    for copy in copies:
        original = originals[copy.value["id"]]
        assert copy.to_bytes() == original.to_bytes()
        assert (copy.topic, copy.key) == (original.topic, original.key)
        assert copy.publish_at > original.publish_at


def test_incident_events_are_keyed_by_incident_id(week):
    for event in week:
        if event.topic == "incidents":
            assert event.key == event.value["data"]["incident_id"]
            assert event.event_type.startswith("cdi.incident.")


def test_crime_events_are_keyed_by_the_first_linked_incident_else_the_crime_id(month):
    key_of_crime = {}
    for event, crime in month.crimes:
        links = crime["incident_ids"]
        assert event.key == (links[0] if links else crime["crime_id"])
        key_of_crime[crime["crime_id"]] = event.key
    cancellations = [e for e in month.events if e.event_type == "cdi.crime.cancelled"]
    assert cancellations
    for event in cancellations:
        assert event.topic == "crime-records"
        assert event.key == key_of_crime[event.value["data"]["crime_id"]]


def test_some_crime_records_are_published_before_their_incidents_report(month):
    early = [
        (e, c)
        for e, c in month.crimes
        if c["incident_ids"] and e.publish_at < month.report_published[c["incident_ids"][0]]
    ]
    assert early
    for _, crime in early:
        # Only the publishing lags: in business time the report still comes first.
        assert at(month.first_report(crime)["reported_at"]) < at(crime["recorded_at"])


def test_a_crime_record_links_only_incidents_reported_before_it(month):
    for _, crime in month.crimes:
        for incident_id in crime["incident_ids"]:
            assert at(month.reports[incident_id]["reported_at"]) < at(crime["recorded_at"])
            assert month.reports[incident_id]["crime_related"] or incident_id in month.updates


def test_some_crimes_link_two_or_three_incidents_from_repeat_calls(month):
    sizes = Counter(len(c["incident_ids"]) for _, c in month.crimes)
    assert set(sizes) == {0, 1, 2, 3}


def test_every_incident_is_closed_except_the_crime_related_never_recorded(month):
    assert all(i in month.closes for i in month.reported_in_window(False))
    still_open = [i for i in month.reported_in_window(True) if i not in month.closes]
    assert still_open
    assert not [i for i in still_open if i in month.linked]


def test_recorded_incidents_close_as_crime_recorded_after_the_record(month):
    recorded_at = {i: at(c["recorded_at"]) for _, c in month.crimes for i in c["incident_ids"]}
    for incident_id, when in recorded_at.items():
        close = month.closes.get(incident_id)
        if close is not None:
            assert close["closing_code"] == "crime_recorded"
            assert at(close["closed_at"]) > when


def test_triage_flags_some_non_crime_reports_mostly_harassment_and_malicious_communications(
    month,
):
    flagged = [month.reports[i] for i in month.updates]
    assert flagged
    assert all(not report["crime_related"] for report in flagged)
    categories = Counter(report["category"] for report in flagged)
    assert categories["harassment"] + categories["malicious_communications"] > len(flagged) / 2
    assert all(i in month.linked for i in month.updates if i in month.closes)


def test_offence_codes_are_consistent_with_the_category(month):
    offences = {
        category: {(code, group) for code, group, _ in mix} for category, mix in PROFILE.offences
    }
    for _, crime in month.crimes:
        if crime["incident_ids"]:
            first = crime["incident_ids"][0]
            category = (
                month.updates.get(first, {}).get("category") or month.reports[first]["category"]
            )
            assert (crime["offence_code"], crime["offence_group"]) in offences[category]
    burglaries = {c["offence_code"] for _, c in month.crimes if c["offence_group"] == "burglary"}
    assert "28E" in burglaries


def test_identifiers_follow_the_force_formats(month):
    for incident_id, report in month.reports.items():
        assert re.fullmatch(r"LP-\d{8}-\d{4,}", incident_id)
        assert incident_id[3:11] == report["reported_at"][:10].replace("-", "")
    for _, crime in month.crimes:
        assert re.fullmatch(r"CR/\d{7,}/24", crime["crime_id"])
    refs = [c["victim_ref"] for _, c in month.crimes if "victim_ref" in c]
    assert all(re.fullmatch(r"V-[0-9A-F]{6}", ref) for ref in refs)
    assert len(refs) == pytest.approx(PROFILE.victim_share * len(month.crimes), rel=0.05)
    consents = Counter(c.get("victim_consents_to_referral") for _, c in month.crimes)
    assert set(consents) == {True, False, None}


def test_the_daily_sequence_restarts_each_day(week):
    ids = [e.key for e in week if e.event_type == "cdi.incident.reported" and not e.redelivered]
    assert [i for i in ids if i.endswith("-0001")] == [
        f"LP-{(START + n * DAY):%Y%m%d}-0001" for n in range(7)
    ]


def test_night_is_quieter_than_the_afternoon(month):
    hours = Counter(at(r["reported_at"]).hour for r in month.reports.values())
    night = sum(hours[h] for h in range(2, 6))
    afternoon = sum(hours[h] for h in range(14, 18))
    assert night < 0.5 * afternoon


def test_scaling_the_profile_multiplies_the_arrival_rate():
    def reports(profile: ForceProfile) -> int:
        events = Simulation(profile, seed=5).events(START, START + DAY)
        return sum(e.event_type == "cdi.incident.reported" for e in events)

    assert reports(PROFILE.scale(10)) / reports(PROFILE) == pytest.approx(10, rel=0.15)


def test_an_endless_stream_is_lazy():
    stream = Simulation(seed=9).events(START)
    assert isinstance(stream, Iterator) and iter(stream) is stream
    began = time.perf_counter()
    first = list(itertools.islice(stream, 100))
    assert len(first) == 100
    # A guard against building the endless stream eagerly, which would never
    # return; not a speed target, so the bound is far above a slow machine's time.
    assert time.perf_counter() - began < 30.0


def test_a_profile_refuses_a_share_outside_zero_and_one():
    with pytest.raises(ValueError, match="late_share"):
        ForceProfile(late_share=1.5)


# -- the runner ---------------------------------------------------------------


@dataclass(frozen=True)
class StoppedClock:
    """A clock that stays at ``moment``: everything before it is in the past."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def seconds_until(self, moment: datetime) -> float:
        return max((moment - self.moment).total_seconds(), 0.0)


class Sink:
    """Stands in for the broker: keeps what was sent, and when on the clock."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.sent_at: list[datetime] = []

    async def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))
        self.sent_at.append(self.clock.now())


def test_the_runner_sends_every_past_event_with_its_topic_key_and_bytes():
    clock = StoppedClock(START + 10 * DAY)
    sink, seen = Sink(clock), []
    until = START + 2 * DAY
    summary = asyncio.run(
        publish(Simulation(seed=2), clock=clock, send=sink, start=START, until=until,
                on_event=seen.append)
    )  # fmt: skip
    expected = list(Simulation(seed=2).events(START, until))
    assert sink.sent == [(e.topic, e.key.encode(), e.to_bytes()) for e in expected]
    assert seen == expected
    assert isinstance(summary, SimSummary)
    assert summary.sent == len(expected)
    assert summary.by_type == Counter(e.event_type for e in expected)
    assert summary.redelivered == sum(e.redelivered for e in expected)
    assert f"sent {len(expected)} events" in str(summary)
    assert "cdi.crime.recorded" in str(summary)


@dataclass
class VirtualClock:
    """An accelerated clock whose real time passes only while the runner waits.

    Real seconds are counted in ``waited``; the runner's waits are patched to
    add to it, so the test measures pacing without depending on how fast the
    machine runs.
    """

    origin: datetime
    rate: float
    waited: float = 0.0

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=self.waited * self.rate)

    def seconds_until(self, moment: datetime) -> float:
        return max((moment - self.now()).total_seconds() / self.rate, 0.0)


def test_the_runner_backfills_past_events_at_once_and_paces_future_ones(monkeypatch):
    rate = 7200.0  # two simulated hours a real second
    origin = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = VirtualClock(origin=origin, rate=rate)
    waits: list[tuple[int, float]] = []  # (events sent before the wait, real seconds)
    sink, events = Sink(clock), []

    async def wait(seconds: float, stop: asyncio.Event | None) -> bool:
        waits.append((len(sink.sent), seconds))
        clock.waited += seconds
        return False

    monkeypatch.setattr("monitor.devtools.simulate.runner._stopped_within", wait)
    until = origin + timedelta(hours=1)
    summary = asyncio.run(
        publish(Simulation(PROFILE.scale(20), seed=4), clock=clock, send=sink,
                start=origin - timedelta(hours=6), until=until, on_event=events.append)
    )  # fmt: skip

    sent = list(zip(events, sink.sent_at, strict=True))
    past = [e for e in events if e.publish_at <= origin]
    future = [(e, on_clock) for e, on_clock in sent if e.publish_at > origin]
    assert len(past) > 1000 and len(future) > 500
    # Six simulated hours of backlog go out before the runner first waits.
    assert waits[0][0] == len(past)
    # Each later event goes out when the clock has reached it, not before.
    assert all(on_clock >= e.publish_at for e, on_clock in future)
    assert all(on_clock - e.publish_at < timedelta(seconds=1) for e, on_clock in future)
    assert summary.sent == len(sink.sent)
    # The run lasts until the clock reaches ``until``: one simulated hour, half a real second.
    assert clock.now() >= until
    assert sum(seconds for _, seconds in waits) == pytest.approx(3600 / rate)


def test_the_runner_stops_when_asked_during_a_backfill():
    clock = StoppedClock(START + 10 * DAY)
    stop, seen = asyncio.Event(), []

    def count(event: SimEvent) -> None:
        seen.append(event)
        if len(seen) == 10:
            stop.set()

    summary = asyncio.run(
        publish(Simulation(), clock=clock, send=Sink(clock), start=START, stop=stop,
                on_event=count)
    )  # fmt: skip
    assert summary.sent == 10


def test_the_runner_stops_when_asked_while_waiting():
    async def run() -> SimSummary:
        origin = datetime.now(UTC)
        clock = AcceleratedClock(origin=origin, rate=1.0)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.1, stop.set)
        start = origin + timedelta(hours=1)
        return await publish(Simulation(), clock=clock, send=Sink(clock), start=start, stop=stop)

    # The first event is a simulated hour away; a stop after 0.1 s must end the wait.
    summary = asyncio.run(asyncio.wait_for(run(), timeout=60))
    assert summary.sent == 0
