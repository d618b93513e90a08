"""What the monitor announces: past-tense facts derived from an incident's state.

Every fact is a pure function of the state, so the same inputs announce the
same facts with the same content, whether consumed live or replayed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.domain.incident import Closure, Report
from monitor.domain.measure import Measurement
from monitor.domain.referral import ReferralFact

_ALERT_NAMESPACE = uuid.UUID("6f1c1f0e-4a8e-5b8e-9d3c-2a1b7f3e9c10")


def alert_id_for(incident_id: str) -> str:
    """The one recording alert an incident can have, identified stably across replays."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"recording-alert/{incident_id}"))


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class Resolution(StrEnum):
    RECORDED = "recorded"
    CLOSED_WITHOUT_CRIME = "closed_without_crime"


@dataclass(frozen=True, slots=True)
class RecordingMeasured:
    """An incident was matched to its first crime record and the delay measured."""

    incident_id: str
    crime_id: str
    report: Report
    recorded_at: datetime
    deadline: datetime
    measurement: Measurement


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """The incident reached a point on its clock with no recording.

    ``raised_at`` is the event-time point (deadline minus the warning, or the
    deadline), not when the monitor noticed, so a replay raises the same alert.
    """

    kind: AlertKind
    incident_id: str
    report: Report
    deadline: datetime
    raised_at: datetime

    @property
    def alert_id(self) -> str:
        return alert_id_for(self.incident_id)


@dataclass(frozen=True, slots=True)
class AlertResolved:
    """The clock stopped for an incident whose alert was open.

    ``late`` is true when the recording came after the deadline.
    """

    incident_id: str
    report: Report
    deadline: datetime
    resolution: Resolution
    resolved_at: datetime
    late: bool
    crime_id: str | None
    was_overdue: bool

    @property
    def alert_id(self) -> str:
        return alert_id_for(self.incident_id)


@dataclass(frozen=True, slots=True)
class ClosedWithoutCrime:
    """A crime-related incident was closed with a non-crime code before any recording.

    Its clock stops without a breach, and it becomes an audit candidate for the
    Force Crime Registrar.
    """

    incident_id: str
    report: Report
    deadline: datetime
    closure: Closure

    @property
    def after_deadline(self) -> bool:
        return self.closure.closed_at > self.deadline


Fact = RecordingMeasured | AlertRaised | AlertResolved | ClosedWithoutCrime | ReferralFact
