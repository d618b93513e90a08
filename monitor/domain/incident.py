"""One incident's recording clock, folded from its events.

The state is a join-semilattice: every field keeps the earliest, the latest or
the union of what the events said, so applying events in any order, or the
same event twice, gives the same state. That is what makes the monitor's
results independent of partitioning, arrival order and redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from typing import Any, TypeVar

from monitor.domain.inputs import (
    ClosingCode,
    CrimeLinked,
    IncidentClosed,
    IncidentInput,
    IncidentReported,
    IncidentUpdated,
    event_time,
)

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

    @property
    def crime_related_since(self) -> datetime | None:
        """When the incident first counted as crime-related, if it ever did."""
        times = [t for t in (self.flagged_at,) if t is not None]
        if self.report is not None and self.report.crime_related:
            times.append(self.report.reported_at)
        return min(times) if times else None

    @property
    def category(self) -> str | None:
        """The current category: the latest triage change, else the opening one."""
        if self.category_change is not None:
            return self.category_change.category
        return self.report.category if self.report is not None else None


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
    return replace(folded, last_event_at=_max_time(state.last_event_at, event_time(event)))


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
    earliest = _earliest(state.report, report, key=lambda r: (r.reported_at, r.event_id))
    return replace(state, report=earliest)


@_fold.register
def _(event: IncidentUpdated, state: IncidentState) -> IncidentState:
    if event.crime_related is True:
        state = replace(state, flagged_at=_min_time(state.flagged_at, event.updated_at))
    elif event.crime_related is False:
        state = replace(state, unflagged_at=_max_time(state.unflagged_at, event.updated_at))
    if event.category is not None:
        change = CategoryChange(event.event_id, event.updated_at, event.category)
        state = replace(
            state,
            category_change=_latest(
                state.category_change, change, key=lambda c: (c.changed_at, c.event_id)
            ),
        )
    return state


@_fold.register
def _(event: IncidentClosed, state: IncidentState) -> IncidentState:
    closure = Closure(event.event_id, event.closed_at, event.closing_code)

    def by_time(c: Closure) -> tuple[datetime, str]:
        return (c.closed_at, c.event_id)

    if event.closing_code.stops_the_clock:
        return replace(state, closure=_earliest(state.closure, closure, key=by_time))
    return replace(
        state, closed_as_recorded=_earliest(state.closed_as_recorded, closure, key=by_time)
    )


@_fold.register
def _(event: CrimeLinked, state: IncidentState) -> IncidentState:
    recording = Recording(event.crime_id, event.recorded_at)
    # The first recording counts: the earliest by recorded time, ties broken by
    # crime id so that arrival order never decides.
    earliest = _earliest(state.recording, recording, key=lambda r: (r.recorded_at, r.crime_id))
    return replace(state, recording=earliest)
