"""A deterministic discrete-event simulation of one force's upstream events.

First reports arrive as a Poisson process whose rate follows the hour of the
day; each arrival decides its incident's whole story (triage, recording,
closing) and schedules it on a heap of future actions, popped in time order.
Every event is a CloudEvents 1.0 JSON object for the ``incidents`` or the
``crime-records`` topic, as the schemas in ``schemas/`` describe.

Determinism: all randomness comes from one ``random.Random(seed)`` per call of
``events``, times are whole seconds, and ties on the heap break by insertion
order, so a seed always gives the same bytes.

Ground truth: asked for (``events(..., truth={})``), the run also decides, with
a generator of its own (so the events are the same bytes either way), whether
each incident was in truth a crime that should have been recorded; see
``monitor.devtools.simulate.truth``. Nothing of it is ever in an event.
"""

from __future__ import annotations

import heapq
import json
import math
import uuid
import zlib
from bisect import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from random import Random
from typing import Any, Generic, Literal, TypeVar

from monitor.devtools.simulate.profile import DAY, HOUR, ForceProfile, Span
from monitor.devtools.simulate.truth import IncidentTruth, hidden_crime_chances
from schemas.event_types import EventType

T = TypeVar("T")

Topic = Literal["incidents", "crime-records"]
INCIDENTS: Topic = "incidents"
CRIMES: Topic = "crime-records"
TARGET_SECONDS = DAY
DEFAULT_PROFILE = ForceProfile()
"""The NCRS recording target: a record at most 24 h after the report is in time."""


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One message to publish at ``publish_at``: ``value`` is the whole CloudEvent.

    ``redelivered`` marks the second copy of an event delivered twice; the
    copy's ``value`` is the very same object, so its bytes are identical.
    """

    publish_at: datetime
    topic: Topic
    key: str
    value: dict[str, Any]
    redelivered: bool = False

    @property
    def event_type(self) -> str:
        return self.value["type"]

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON, keys in a fixed order."""
        return json.dumps(self.value, separators=(",", ":"), ensure_ascii=False).encode()


class Simulation:
    """An endless, reproducible stream of upstream events for one force."""

    def __init__(self, profile: ForceProfile = DEFAULT_PROFILE, seed: int = 1) -> None:
        self.profile = profile
        self.seed = seed

    def events(
        self,
        start: datetime,
        until: datetime | None = None,
        truth: dict[str, IncidentTruth] | None = None,
    ) -> Iterator[SimEvent]:
        """Events published in ``[start, until)`` in non-decreasing ``publish_at`` order.

        Only incidents reported from ``start`` on exist. ``until=None`` never
        ends; the stream is produced lazily, one arrival at a time. Given a
        ``truth`` dictionary, the run fills it, by incident id, with each
        incident's ground truth as the incident is created (its offence group
        when its crime is recorded).
        """
        if start.tzinfo is None or (until is not None and until.tzinfo is None):
            raise ValueError("start and until must be timezone-aware")
        end = math.inf if until is None else until.timestamp()
        run = _Run(self.profile, Random(self.seed), math.ceil(start.timestamp()))
        if truth is not None:
            run.know_truth(truth, Random(f"truth:{self.seed}"))
        return run.run(end)

    def __repr__(self) -> str:
        return f"Simulation(seed={self.seed}, force={self.profile.force!r})"


class _Pick(Generic[T]):
    """A weighted choice in O(log n) with one random draw."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, weighted: Iterable[tuple[T, float]]) -> None:
        self.items: list[T] = []
        self.cumulative: list[float] = []
        running = 0.0
        for item, weight in weighted:
            running += weight
            self.items.append(item)
            self.cumulative.append(running)
        self.total = running
        # random() * total can round up to total itself; never index past the end.
        self.cumulative[-1] = math.inf

    def __call__(self, rng: Random) -> T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


@lru_cache(maxsize=64)
def _day_text(day: int) -> tuple[str, str, int]:
    """For days since the epoch: the RFC 3339 date prefix, ``YYYYMMDD`` and the year."""
    d = datetime.fromtimestamp(day * DAY, UTC)
    return d.strftime("%Y-%m-%dT"), d.strftime("%Y%m%d"), d.year


_HOUR_TEXT: dict[int, str] = {}


def _stamp(t: int) -> str:
    """RFC 3339 UTC text for whole epoch seconds, e.g. ``2024-05-01T09:30:00Z``."""
    hours, second = divmod(t, HOUR)
    prefix = _HOUR_TEXT.get(hours)
    if prefix is None:
        # Formatting the date is the slow part; events cluster in a few hours.
        if len(_HOUR_TEXT) > 4096:
            _HOUR_TEXT.clear()
        day, hour = divmod(hours, 24)
        prefix = _HOUR_TEXT[hours] = f"{_day_text(day)[0]}{hour:02d}:"
    minute, second = divmod(second, 60)
    return f"{prefix}{minute:02d}:{second:02d}Z"


class _Case:
    """A crime in the making: its category and the incidents its record will link."""

    __slots__ = ("category", "incident_ids", "recorded_at")

    def __init__(self, category: str, incident_ids: list[str], recorded_at: int) -> None:
        self.category = category
        self.incident_ids = incident_ids
        self.recorded_at = recorded_at


# Heap actions. _EMIT publishes a prepared payload; the others decide at their
# time because they draw a sequence number (incident or crime id) that must
# follow the business clock.
_EMIT, _RECORD, _CALL, _REDELIVER = range(4)


class _Run:
    """The state of one pass through the simulation."""

    def __init__(self, profile: ForceProfile, rng: Random, start: int) -> None:
        p = self.p = profile
        self.rng = rng
        self.heap: list[tuple[Any, ...]] = []
        self.seq = 0
        mean = sum(p.hourly_weights) / 24
        self.rates = [p.incidents_per_second * w / mean for w in p.hourly_weights]
        self.arrival_clock = float(start)
        self.incident_day, self.incident_seq = -1, 0
        self.crime_year, self.crime_seq = -1, 0
        self.sources = {
            INCIDENTS: f"urn:force:{p.force}:{p.incident_system}",
            CRIMES: f"urn:force:{p.force}:{p.crime_system}",
        }
        self.division = _Pick(p.divisions)
        self.channel = _Pick(p.channels)
        self.grade = _Pick(p.grades)
        self.emergency_grade = _Pick(p.emergency_grades)
        self.crime_category = _Pick(p.crime_categories)
        self.non_crime_category = _Pick(p.non_crime_categories)
        self.triage_category = _Pick(p.triage_categories)
        self.triage_new_category = _Pick(p.triage_new_categories)
        self.cancellation_reason = _Pick(p.cancellation_reasons)
        self.offence = {
            category: _Pick(((code, group), w) for code, group, w in mix)
            for category, mix in p.offences
        }
        self.delay_mu = math.log(p.recording_delay_median_seconds)
        self.late_mu = math.log(p.late_excess_median_seconds)
        # Out-of-order is drawn only for incidents recorded in time (a feed
        # lagging for days is not realistic), so scale it up to keep the
        # share of crime records it affects at the profile's figure.
        on_time = 1 - p.late_share
        self.out_of_order_chance = min(1.0, p.out_of_order_share / on_time) if on_time else 0.0
        # Each linked crime spawns an unlinked one with this chance, so
        # unlinked crimes are unlinked_share of all crimes.
        self.unlinked_chance = p.unlinked_share / (1 - p.unlinked_share)
        self.truth: dict[str, IncidentTruth] | None = None

    def know_truth(self, truth: dict[str, IncidentTruth], rng: Random) -> None:
        """Record each incident's ground truth in ``truth``, drawing from ``rng`` only."""
        self.truth, self.truth_rng = truth, rng
        self.hidden = hidden_crime_chances(self.p)
        self.groups = {
            category: _Pick((group, w) for _, group, w in mix) for category, mix in self.p.offences
        }

    def _crime(self, incident_id: str, category: str, chance: float = 1.0) -> None:
        """The truth of an incident: a crime with ``chance`` (in its category's offence group)."""
        if self.truth is None:
            return
        rng = self.truth_rng
        crime = chance >= 1.0 or rng.random() < chance
        group = self.groups[category](rng) if crime and category in self.groups else None
        self.truth[incident_id] = IncidentTruth(crime, group)

    def _hidden(self, incident_id: str, category: str) -> None:
        """An incident closed without a record: in truth a crime with its category's chance."""
        if self.truth is not None:
            self._crime(incident_id, category, self.hidden.get(category, 0.0))

    def _recorded_as(self, incident_ids: list[str], group: str) -> None:
        """Recorded incidents were crimes; a few were recorded under the wrong group."""
        if self.truth is None:
            return
        for incident_id in incident_ids:
            true_group = group
            if self.truth_rng.random() < self.p.misrecorded_share:
                others = sorted({g for mix in self.groups.values() for g in mix.items} - {group})
                true_group = others[int(self.truth_rng.random() * len(others))]
            self.truth[incident_id] = IncidentTruth(True, true_group)

    # -- the main loop -------------------------------------------------------

    def run(self, end: float) -> Iterator[SimEvent]:
        heap = self.heap
        arrival = self._next_arrival()
        while True:
            if not heap or arrival <= heap[0][0]:
                if arrival >= end:
                    return
                self._arrive(arrival)
                arrival = self._next_arrival()
                continue
            t, _, kind, payload = heapq.heappop(heap)
            if t >= end:
                return
            if kind == _EMIT:
                yield self._emit(t, *payload)
            elif kind == _RECORD:
                yield self._record(t, payload)
            elif kind == _CALL:
                self._call(t, *payload)
            else:
                yield payload

    def _push(self, t: int, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def _next_arrival(self) -> int:
        """The next first report: inverts the piecewise-constant hourly rate exactly."""
        rng, t = self.rng, self.arrival_clock
        work = rng.expovariate(1.0)
        while True:
            rate = self.rates[int(t // HOUR) % 24]
            boundary = (t // HOUR + 1) * HOUR
            if t + work / rate < boundary:
                t += work / rate
                break
            work -= (boundary - t) * rate
            t = boundary
        self.arrival_clock = t
        return math.ceil(t)

    # -- building events -----------------------------------------------------

    def _emit(
        self, t: int, topic: Topic, event_type: str, key: str, data: dict[str, Any]
    ) -> SimEvent:
        rng = self.rng
        value = {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "source": self.sources[topic],
            "type": event_type,
            "time": _stamp(t),
            "datacontenttype": "application/json",
            "data": data,
        }
        event = SimEvent(datetime.fromtimestamp(t, UTC), topic, key, value)
        if rng.random() < self.p.redelivery_share:
            again = t + self._between(self.p.redelivery_after_seconds)
            copy = SimEvent(datetime.fromtimestamp(again, UTC), topic, key, value, True)
            self._push(again, _REDELIVER, copy)
        return event

    def _between(self, span: Span) -> int:
        low, high = span
        return low + int(self.rng.random() * (high - low))

    def _incident_id(self, t: int) -> str:
        """``LP-20240501-0173``: prefix, UTC date of the report, sequence within the day."""
        day = t // DAY
        if day != self.incident_day:
            self.incident_day, self.incident_seq = day, 0
        self.incident_seq += 1
        return f"{self.p.incident_prefix}-{_day_text(day)[1]}-{self.incident_seq:04d}"

    def _crime_id(self, t: int) -> str:
        """``CR/0001234/24``: sequence within the year of recording, two-digit year."""
        year = _day_text(t // DAY)[2]
        if year != self.crime_year:
            self.crime_year, self.crime_seq = year, 0
        self.crime_seq += 1
        return f"CR/{self.crime_seq:07d}/{year % 100:02d}"

    def _report(
        self, t: int, lag: int, incident_id: str, category: str, crime_related: bool, division: str
    ) -> None:
        """Schedule the report of an incident received at ``t``, published ``lag`` s later."""
        rng = self.rng
        channel = self.channel(rng)
        grade = (self.emergency_grade if channel == "999" else self.grade)(rng)
        data = {
            "incident_id": incident_id,
            "force": self.p.force,
            "reported_at": _stamp(t),
            "channel": channel,
            "category": category,
            "crime_related": crime_related,
            "division": division,
            "grade": grade,
        }
        self._push(t + lag, _EMIT, (INCIDENTS, EventType.INCIDENT_REPORTED, incident_id, data))

    def _close(self, t: int, lag: int, incident_id: str, code: str, division: str) -> None:
        data = {"incident_id": incident_id, "closed_at": _stamp(t), "closing_code": code}
        teams = self.p.closing_teams
        if teams:
            # From the incident number, not the random stream: teams change no other event.
            team = teams[zlib.crc32(incident_id.encode()) % len(teams)]
            data["closed_by_team"] = f"{division}_{team}"
        self._push(t + lag, _EMIT, (INCIDENTS, EventType.INCIDENT_CLOSED, incident_id, data))

    def _recording_delay(self) -> int:
        """Seconds to the record: a lognormal under 24 h, or, if late, 24 h plus a lognormal."""
        rng, p = self.rng, self.p
        if rng.random() < p.late_share:
            excess = rng.lognormvariate(self.late_mu, p.late_excess_sigma)
            return TARGET_SECONDS + max(1, int(excess))
        while True:
            delay = int(rng.lognormvariate(self.delay_mu, p.recording_delay_sigma))
            if delay < TARGET_SECONDS:
                return max(60, delay)

    # -- what happens to an incident -----------------------------------------

    def _arrive(self, t: int) -> None:
        rng = self.rng
        if rng.random() < self.p.crime_related_share:
            self._crime_related(t, self.crime_category(rng), self.division(rng))
        elif rng.random() < self.p.triage_share:
            self._triaged(t, self.triage_category(rng), self.division(rng))
        else:
            self._non_crime(t, self.non_crime_category(rng), self.division(rng))

    def _crime_related(self, t: int, category: str, division: str) -> None:
        rng, p = self.rng, self.p
        incident_id = self._incident_id(t)
        fate = rng.random()
        if fate < p.never_recorded_share:
            self._report(t, 0, incident_id, category, True, division)
            self._crime(incident_id, category)
            return
        if fate < p.never_recorded_share + p.closed_without_crime_share:
            self._report(t, 0, incident_id, category, True, division)
            code = "no_crime" if rng.random() < p.no_crime_code_share else "non_crime_incident"
            closed_at = t + self._between(p.closed_without_crime_seconds)
            self._close(closed_at, 0, incident_id, code, division)
            self._hidden(incident_id, category)
            return
        delay = self._recording_delay()
        lag = 0
        if delay <= TARGET_SECONDS and rng.random() < self.out_of_order_chance:
            lag = delay + self._between(p.feed_lag_seconds)
        self._report(t, lag, incident_id, category, True, division)
        self._crime(incident_id, category)
        case = _Case(category, [incident_id], t + delay)
        self._push(case.recorded_at, _RECORD, case)
        closed_at = case.recorded_at + self._between(p.recorded_close_seconds)
        self._close(closed_at, lag, incident_id, "crime_recorded", division)
        if rng.random() < p.multi_incident_share:
            repeats = 2 if rng.random() < p.three_incident_share else 1
            for _ in range(repeats):
                # A repeat call comes in before the record so the record can link it.
                after = max(1, int(delay * (0.1 + 0.8 * rng.random())))
                self._push(t + after, _CALL, (case, category, division))

    def _triaged(self, t: int, category: str, division: str) -> None:
        """Reported as non-crime; triage later flags it crime-related, then it is recorded."""
        rng, p = self.rng, self.p
        incident_id = self._incident_id(t)
        self._report(t, 0, incident_id, category, False, division)
        updated_at = t + self._between(p.triage_after_seconds)
        data: dict[str, Any] = {
            "incident_id": incident_id,
            "updated_at": _stamp(updated_at),
            "crime_related": True,
        }
        if rng.random() < p.triage_recategorise_share:
            new = self.triage_new_category(rng)
            if new != category:
                data["category"] = category = new
        self._push(updated_at, _EMIT, (INCIDENTS, EventType.INCIDENT_UPDATED, incident_id, data))
        self._crime(incident_id, category)
        case = _Case(category, [incident_id], updated_at + self._recording_delay())
        self._push(case.recorded_at, _RECORD, case)
        closed_at = case.recorded_at + self._between(p.recorded_close_seconds)
        self._close(closed_at, 0, incident_id, "crime_recorded", division)

    def _non_crime(self, t: int, category: str, division: str) -> None:
        rng, p = self.rng, self.p
        incident_id = self._incident_id(t)
        self._report(t, 0, incident_id, category, False, division)
        code = "other" if rng.random() < p.non_crime_other_share else "non_crime_incident"
        self._close(t + self._between(p.non_crime_close_seconds), 0, incident_id, code, division)
        self._hidden(incident_id, category)
        if rng.random() < p.duplicate_call_share:
            self._push(t + self._between(p.duplicate_call_after_seconds), _CALL,
                       (None, category, division))  # fmt: skip

    def _call(self, t: int, case: _Case | None, category: str, division: str) -> None:
        """Another call about the same matter: a repeat linked to ``case``, or a duplicate."""
        p = self.p
        incident_id = self._incident_id(t)
        self._report(t, 0, incident_id, category, case is not None, division)
        if case is None:
            closed_at = t + self._between(p.duplicate_close_seconds)
            self._close(closed_at, 0, incident_id, "duplicate", division)
            self._crime(incident_id, category, 0.0)  # the first call is the one that counts
            return
        case.incident_ids.append(incident_id)
        self._crime(incident_id, category)
        closed_at = case.recorded_at + self._between(p.recorded_close_seconds)
        self._close(closed_at, 0, incident_id, "crime_recorded", division)

    def _record(self, t: int, case: _Case) -> SimEvent:
        rng, p = self.rng, self.p
        crime_id = self._crime_id(t)
        code, group = self.offence[case.category](rng)
        self._recorded_as(case.incident_ids, group)
        data: dict[str, Any] = {
            "crime_id": crime_id,
            "incident_ids": list(case.incident_ids),
            "recorded_at": _stamp(t),
            "offence_code": code,
            "offence_group": group,
        }
        if rng.random() < p.victim_share:
            data["victim_ref"] = f"V-{rng.getrandbits(24):06X}"
            consent = rng.random()
            if consent < p.consent_yes_share:
                data["victim_consents_to_referral"] = True
            elif consent < p.consent_yes_share + p.consent_no_share:
                data["victim_consents_to_referral"] = False
        key = case.incident_ids[0] if case.incident_ids else crime_id
        if rng.random() < p.cancelled_share:
            cancelled_at = t + self._between(p.cancel_after_seconds)
            cancel = {
                "crime_id": crime_id,
                "cancelled_at": _stamp(cancelled_at),
                "reason": self.cancellation_reason(rng),
            }
            self._push(cancelled_at, _EMIT, (CRIMES, EventType.CRIME_CANCELLED, key, cancel))
        if case.incident_ids and rng.random() < self.unlinked_chance:
            unlinked = _Case(self.crime_category(rng), [], t)
            unlinked.recorded_at += self._between(p.unlinked_after_seconds)
            self._push(unlinked.recorded_at, _RECORD, unlinked)
        return self._emit(t, CRIMES, EventType.CRIME_RECORDED, key, data)
