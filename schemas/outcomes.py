"""Topic ``recording-outcomes`` (Kafka key = ``incident_id``): what the clock measured."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import CrimeId, IncidentId, Name, Slug, Timestamp
from schemas.envelope import CloudEvent, OutputData
from schemas.event_types import EventType
from schemas.incidents import Channel, ClosingCode


class IncidentFacts(OutputData):
    """The incident as reported: the same in every event about it."""

    incident_id: IncidentId
    force: Name
    reported_at: Timestamp
    deadline: Timestamp = Field(description="reported_at plus the recording target")
    channel: Channel
    category: Slug = Field(description="Opening category")
    division: Name | None = None


class RecordingMeasuredData(IncidentFacts):
    crime_id: CrimeId = Field(description="The first crime record that names this incident")
    recorded_at: Timestamp
    elapsed_seconds: float = Field(
        ge=0, description="recorded_at - reported_at in seconds; 0 when recorded before reported"
    )
    target_seconds: float = Field(gt=0, description="The recording target (86400 = 24 hours)")
    within_target: bool = Field(description="elapsed_seconds <= target_seconds")
    recorded_before_report: bool = Field(
        description="Data-quality error: the record is stamped before the report"
    )


class ClosedWithoutCrimeData(IncidentFacts):
    closed_at: Timestamp
    closing_code: ClosingCode
    after_deadline: bool = Field(description="Closed after the recording deadline had passed")


class RecordingMeasured(CloudEvent):
    """An incident was matched to its crime record and the delay measured.

    If an earlier-stamped crime record for the same incident arrives later, a
    further measurement is published for it: the one with the earliest
    ``recorded_at`` counts.
    """

    type: Literal[EventType.RECORDING_MEASURED]
    data: RecordingMeasuredData


class IncidentClosedWithoutCrime(CloudEvent):
    """A crime-related incident was closed with a non-crime code before any recording.

    The clock stops without a breach; the incident is an audit candidate.
    """

    type: Literal[EventType.CLOSED_WITHOUT_CRIME]
    data: ClosedWithoutCrimeData
