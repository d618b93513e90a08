"""Wire events the board reads, turned into plain values once, at the edge.

Only references travel on: incident and crime numbers, category, division,
channel and times. Victims' details never reach the board (the outputs carry
none, and ``victim_ref`` from the ledger is never selected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import TypeAdapter, ValidationError

from schemas.alerts import RecordingDueSoon, RecordingOverdue, RecordingResolved
from schemas.event_types import EventType
from schemas.outcomes import IncidentClosedWithoutCrime, IncidentFacts, RecordingMeasured

AlertKind = Literal["due_soon", "overdue", "resolved"]


@dataclass(frozen=True)
class Report:
    """The incident as reported: the same in every event about it."""

    incident_id: str
    force: str
    division: str | None
    category: str
    channel: str
    reported_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class AlertChanged:
    """One transition of an incident's recording alert."""

    event_id: str
    kind: AlertKind
    alert_id: str
    report: Report
    at: datetime  # raised_at, overdue_since or resolved_at
    resolution: str | None = None
    late: bool | None = None
    crime_id: str | None = None


@dataclass(frozen=True)
class Measured:
    """An incident matched to its crime record, and the delay in seconds."""

    event_id: str
    report: Report
    crime_id: str
    recorded_at: datetime
    elapsed_seconds: float
    within_target: bool


@dataclass(frozen=True)
class ClosedWithoutCrime:
    event_id: str
    report: Report
    closed_at: datetime
    closing_code: str


Fact = AlertChanged | Measured | ClosedWithoutCrime

_EVENTS = TypeAdapter(
    RecordingDueSoon
    | RecordingOverdue
    | RecordingResolved
    | RecordingMeasured
    | IncidentClosedWithoutCrime
)
_READ = {
    EventType.DUE_SOON,
    EventType.OVERDUE,
    EventType.RESOLVED,
    EventType.RECORDING_MEASURED,
    EventType.CLOSED_WITHOUT_CRIME,
}


class NotForTheBoard(ValueError):
    """A record the board cannot read (malformed, or a type it does not show)."""


def _report(d: IncidentFacts) -> Report:
    return Report(
        incident_id=d.incident_id,
        force=d.force,
        division=d.division,
        category=d.category,
        channel=str(d.channel.value),
        reported_at=d.reported_at,
        deadline=d.deadline,
    )


def decode(raw: bytes) -> Fact:
    """The fact in one Kafka value; ``NotForTheBoard`` when it is not one the board shows."""
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotForTheBoard(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("type") not in _READ:
        raise NotForTheBoard("not an event type the board shows")
    try:
        event = _EVENTS.validate_python(envelope)
    except ValidationError as exc:
        raise NotForTheBoard(
            f"invalid {envelope.get('type')}: {exc.error_count()} errors"
        ) from None
    report = _report(event.data)
    match event:
        case RecordingDueSoon(id=eid, data=d):
            return AlertChanged(eid, "due_soon", d.alert_id, report, d.raised_at)
        case RecordingOverdue(id=eid, data=d):
            return AlertChanged(eid, "overdue", d.alert_id, report, d.overdue_since)
        case RecordingResolved(id=eid, data=d):
            return AlertChanged(
                eid,
                "resolved",
                d.alert_id,
                report,
                d.resolved_at,
                resolution=d.resolution.value,
                late=d.late,
                crime_id=d.crime_id,
            )
        case RecordingMeasured(id=eid, data=d):
            return Measured(
                eid, report, d.crime_id, d.recorded_at, d.elapsed_seconds, d.within_target
            )
        case IncidentClosedWithoutCrime(id=eid, data=d):
            return ClosedWithoutCrime(eid, report, d.closed_at, d.closing_code.value)
    raise NotForTheBoard("unreachable")  # pragma: no cover
