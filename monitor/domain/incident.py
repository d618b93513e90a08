"""One incident's recording clock, folded from its events.

The state is a join-semilattice: every field keeps the earliest, the latest or
the union of what the events said, so applying events in any order, or the
same event twice, gives the same state. That is what makes the monitor's
results independent of partitioning, arrival order and redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatch
from typing import Any, TypeVar

from monitor.domain.inputs import (
    ClosingCode,
    CrimeLinked,
    CrimeVictim,
    IncidentClosed,
    IncidentInput,
    IncidentReported,
    IncidentUpdated,
    event_time,
)
from monitor.domain.values import evolve

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Report:
    """The incident as first reported: what the call handler opened it as."""

    event_id: str
    force: str
    reported_at: datetime
    channel: str
    category: str
    crime_related: bool
    division: str | None = None
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """The crime record that satisfies the incident: the earliest one recorded."""

    crime_id: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Closure:
    event_id: str
    closed_at: datetime
    closing_code: ClosingCode
    closed_by_team: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryChange:
    event_id: str
    changed_at: datetime
    category: str


@dataclass(frozen=True, slots=True)
class Announced:
    """What has already been published for this incident, so nothing is said twice."""

    measured_crime: str | None = None
    due_soon: bool = False
    overdue: bool = False
    resolved: bool = False
    closed_without_crime: bool = False
    referred: frozenset[str] = frozenset()
    """Crimes whose victim-support referral has been announced."""

    @property
    def alert_open(self) -> bool:
        return (self.due_soon or self.overdue) and not self.resolved


@dataclass(frozen=True, slots=True)
class IncidentState:
    """Everything the monitor knows about one incident.

    ``flagged_at`` is the earliest update that marked the incident
    crime-related; ``unflagged_at`` the latest that cleared the flag. A
    disclosed crime stands until it is recorded or the incident is closed with
    a non-crime closing code, so clearing the flag is kept for audit and does
    not stop the clock.
    """

    incident_id: str
    report: Report | None = None
    flagged_at: datetime | None = None
    unflagged_at: datetime | None = None
    category_change: CategoryChange | None = None
    recording: Recording | None = None
    closure: Closure | None = None
    closed_as_recorded: Closure | None = None
    last_event_at: datetime | None = None
    announced: Announced = field(default_factory=Announced)
    victims: tuple[CrimeVictim, ...] = ()
    """Crimes with a victim that name this incident first (it owns their referrals), by id."""

    @property
    def crime_related_since(self) -> datetime | None:
        """When the incident first counted as crime-related, if it ever did.

        The earlier of the report (if it disclosed a crime) and the first update
        that flagged it.
        """
        flagged, report = self.flagged_at, self.report
        if report is None or not report.crime_related:
            return flagged
        reported = report.reported_at
        return reported if flagged is None or reported < flagged else flagged

    @property
    def category(self) -> str | None:
        """The current category: the latest triage change, else the opening one."""
        if self.category_change is not None:
            return self.category_change.category
        return self.report.category if self.report is not None else None


# Orders that decide which of two values a field keeps. Each ends in the whole
# value, so that even two conflicting events with one id resolve the same way
# in any order.
def _report_order(r: Report) -> tuple[Any, ...]:
    return (r.reported_at, r.event_id, repr(r))


def _recording_order(r: Recording) -> tuple[Any, ...]:
    return (r.recorded_at, r.crime_id)


def _closure_order(c: Closure) -> tuple[Any, ...]:
    return (c.closed_at, c.event_id, c.closing_code.value, c.closed_by_team or "")


def _change_order(c: CategoryChange) -> tuple[Any, ...]:
    return (c.changed_at, c.event_id, c.category)


def _victim_order(v: CrimeVictim) -> tuple[Any, ...]:
    return (v.recorded_at, v.event_id, repr(v))


def _with_victim(victims: tuple[CrimeVictim, ...], victim: CrimeVictim) -> tuple[CrimeVictim, ...]:
    """Add a crime's victim, one per crime id (the earliest event if a crime is sent twice)."""
    by_crime = {v.crime_id: v for v in victims}
    by_crime[victim.crime_id] = _earliest(by_crime.get(victim.crime_id), victim, _victim_order)
    return tuple(by_crime[crime_id] for crime_id in sorted(by_crime))


def _earliest(current: T | None, candidate: T, key: Callable[[T], Any]) -> T:
    return candidate if current is None or key(candidate) < key(current) else current


def _latest(current: T | None, candidate: T, key: Callable[[T], Any]) -> T:
    return candidate if current is None or key(candidate) > key(current) else current


def _min_time(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _max_time(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def apply(state: IncidentState, event: IncidentInput) -> IncidentState:
    """Fold one event into the state. Idempotent and order-insensitive."""
    folded = _fold(event, state)
    return evolve(folded, last_event_at=_max_time(state.last_event_at, event_time(event)))


@singledispatch
def _fold(event: object, state: IncidentState) -> IncidentState:
    raise TypeError(f"not an incident event: {event!r}")


@_fold.register
def _(event: IncidentReported, state: IncidentState) -> IncidentState:
    report = Report(
        event_id=event.event_id,
        force=event.force,
        reported_at=event.reported_at,
        channel=event.channel,
        category=event.category,
        crime_related=event.crime_related,
        division=event.division,
        grade=event.grade,
    )
    # Two reports for one incident is an upstream error; keep the earliest so
    # every replay keeps the same one.
    earliest = _earliest(state.report, report, key=_report_order)
    return evolve(state, report=earliest)


@_fold.register
def _(event: IncidentUpdated, state: IncidentState) -> IncidentState:
    if event.crime_related is True:
        state = evolve(state, flagged_at=_min_time(state.flagged_at, event.updated_at))
    elif event.crime_related is False:
        state = evolve(state, unflagged_at=_max_time(state.unflagged_at, event.updated_at))
    if event.category is not None:
        change = CategoryChange(event.event_id, event.updated_at, event.category)
        state = evolve(
            state, category_change=_latest(state.category_change, change, key=_change_order)
        )
    return state


@_fold.register
def _(event: IncidentClosed, state: IncidentState) -> IncidentState:
    closure = Closure(event.event_id, event.closed_at, event.closing_code, event.closed_by_team)
    if event.closing_code.stops_the_clock:
        return evolve(state, closure=_earliest(state.closure, closure, key=_closure_order))
    return evolve(
        state,
        closed_as_recorded=_earliest(state.closed_as_recorded, closure, key=_closure_order),
    )


@_fold.register
def _(event: CrimeLinked, state: IncidentState) -> IncidentState:
    recording = Recording(event.crime_id, event.recorded_at)
    # The first recording counts: the earliest by recorded time, ties broken by
    # crime id so that arrival order never decides.
    earliest = _earliest(state.recording, recording, key=_recording_order)
    state = evolve(state, recording=earliest)
    if event.victim is not None:
        state = evolve(state, victims=_with_victim(state.victims, event.victim))
    return state


def join(a: IncidentState, b: IncidentState) -> IncidentState:
    """The state that knows everything either state knows (the semilattice join).

    ``join`` is commutative, associative and idempotent, and joining the states
    folded from two sets of events gives the state folded from their union. A
    store can therefore merge copies of one incident written in any order, or
    twice, and keep the right state.
    """
    if a.incident_id != b.incident_id:
        raise ValueError(f"cannot join incidents {a.incident_id} and {b.incident_id}")

    def first(x, y, key):
        return x if y is None else _earliest(x, y, key)

    def last(x, y, key):
        return x if y is None else _latest(x, y, key)

    recording = first(a.recording, b.recording, _recording_order)
    measured = {
        crime
        for crime in (a.announced.measured_crime, b.announced.measured_crime)
        if crime is not None
    }
    announced = Announced(
        # Of the crimes measured, the one that now counts, if it was measured.
        measured_crime=(
            recording.crime_id
            if recording is not None and recording.crime_id in measured
            else min(measured, default=None)
        ),
        due_soon=a.announced.due_soon or b.announced.due_soon,
        overdue=a.announced.overdue or b.announced.overdue,
        resolved=a.announced.resolved or b.announced.resolved,
        closed_without_crime=a.announced.closed_without_crime or b.announced.closed_without_crime,
        referred=a.announced.referred | b.announced.referred,
    )
    victims = a.victims
    for victim in b.victims:
        victims = _with_victim(victims, victim)
    return IncidentState(
        incident_id=a.incident_id,
        report=first(a.report, b.report, _report_order),
        flagged_at=_optional(min, a.flagged_at, b.flagged_at),
        unflagged_at=_optional(max, a.unflagged_at, b.unflagged_at),
        category_change=last(a.category_change, b.category_change, _change_order),
        recording=recording,
        closure=first(a.closure, b.closure, _closure_order),
        closed_as_recorded=first(a.closed_as_recorded, b.closed_as_recorded, _closure_order),
        last_event_at=_optional(max, a.last_event_at, b.last_event_at),
        announced=announced,
        victims=victims,
    )


def _optional(pick, x, y):
    if x is None:
        return y
    if y is None:
        return x
    return pick(x, y)
