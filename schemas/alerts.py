"""Topic ``recording-alerts`` (Kafka key = ``incident_id``): the recording alert's lifecycle.

An incident has at most one recording alert, identified by ``alert_id``. It
is raised as due soon, escalated to overdue at the deadline, and resolved when
the clock stops. Each transition is one event; the CloudEvent ``id`` is
derived from ``alert_id`` and the transition, so a redelivered event can be
dropped by its ``id``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.common import CrimeId, Timestamp
from schemas.envelope import CloudEvent
from schemas.event_types import EventType
from schemas.outcomes import IncidentFacts


class Resolution(StrEnum):
    RECORDED = "recorded"
    CLOSED_WITHOUT_CRIME = "closed_without_crime"


class AlertData(IncidentFacts):
    alert_id: str = Field(description="Stable identifier of this incident's recording alert")


class RecordingDueSoonData(AlertData):
    raised_at: Timestamp = Field(description="When the time remaining fell below the warning")
    remaining_seconds: float = Field(description="Time left to the deadline at raised_at")


class RecordingOverdueData(AlertData):
    overdue_since: Timestamp = Field(
        description="The deadline, or when the incident became crime-related if later"
    )


class RecordingResolvedData(AlertData):
    resolution: Resolution
    resolved_at: Timestamp = Field(description="When the crime was recorded or the incident closed")
    late: bool = Field(description="Recorded after the deadline")
    crime_id: CrimeId | None = None
    was_overdue: bool


class RecordingDueSoon(CloudEvent):
    type: Literal[EventType.DUE_SOON]
    data: RecordingDueSoonData


class RecordingOverdue(CloudEvent):
    type: Literal[EventType.OVERDUE]
    data: RecordingOverdueData


class RecordingResolved(CloudEvent):
    type: Literal[EventType.RESOLVED]
    data: RecordingResolvedData
