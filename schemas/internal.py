"""Messages on the monitor's own topics. Not part of the public contract.

- ``<app-id>-links``, co-partitioned with ``incidents`` and keyed by incident:
  crime links fanned out from ``crime-records``, incident events that arrived
  on the wrong partition, and watermark ticks.
- ``<app-id>-ledger``: what the ledger writer stores in the database.
- The incident table's values (and its changelog) hold ``IncidentRecord``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import Timestamp
from schemas.crimes import CrimeCancelledData, CrimeRecordedData
from schemas.incidents import ClosingCode


class Internal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VictimRecord(Internal):
    """A crime's victim, for the referral owned by the crime's first-named incident."""

    crime_id: str
    event_id: str
    recorded_at: Timestamp
    offence_code: str
    offence_group: str
    victim_ref: str
    consents: bool | None = None
    domestic_abuse: bool | None = None
    bereaved_relative: bool | None = None


class CrimeLinkMessage(Internal):
    """One incident named by a crime record, routed to that incident's partition."""

    kind: Literal["link"] = "link"
    event_id: str
    incident_id: str
    crime_id: str
    recorded_at: Timestamp
    victim: VictimRecord | None = None


class RerouteMessage(Internal):
    """An incident event that reached a partition its key does not hash to."""

    kind: Literal["incident"] = "incident"
    event: str = Field(description="The original CloudEvent JSON")


class WatermarkMessage(Internal):
    """How far, in event time, each ``crime-records`` partition has been routed.

    Sent every tick to every partition of the links topic by the worker that
    owns those ``crime-records`` partitions. ``marks`` pairs partition and
    watermark.
    """

    kind: Literal["watermark"] = "watermark"
    source_partitions: int = Field(ge=1)
    marks: list[tuple[int, Timestamp]]


LinksMessage = Annotated[
    CrimeLinkMessage | RerouteMessage | WatermarkMessage, Field(discriminator="kind")
]


class ReportRecord(Internal):
    event_id: str
    force: str
    reported_at: Timestamp
    channel: str
    category: str
    crime_related: bool
    division: str | None = None
    grade: str | None = None


class RecordingRecord(Internal):
    crime_id: str
    recorded_at: Timestamp


class ClosureRecord(Internal):
    event_id: str
    closed_at: Timestamp
    closing_code: ClosingCode
    closed_by_team: str | None = None


class CategoryChangeRecord(Internal):
    event_id: str
    changed_at: Timestamp
    category: str


class AnnouncedRecord(Internal):
    measured_crime: str | None = None
    due_soon: bool = False
    overdue: bool = False
    resolved: bool = False
    closed_without_crime: bool = False
    referred: list[str] = Field(default_factory=list)


class IncidentRecord(Internal):
    """One incident's recording-clock state, as stored in the table."""

    v: Literal[1] = 1
    incident_id: str
    report: ReportRecord | None = None
    flagged_at: Timestamp | None = None
    unflagged_at: Timestamp | None = None
    category_change: CategoryChangeRecord | None = None
    recording: RecordingRecord | None = None
    closure: ClosureRecord | None = None
    closed_as_recorded: ClosureRecord | None = None
    last_event_at: Timestamp | None = None
    announced: AnnouncedRecord = AnnouncedRecord()
    victims: list[VictimRecord] = Field(default_factory=list)
    trigger: tuple[str, int] | None = Field(
        default=None, description="Topic and offset of the message that last changed the state"
    )


class LedgerIncident(Internal):
    kind: Literal["incident"] = "incident"
    state: IncidentRecord


class LedgerCrimeRecorded(Internal):
    kind: Literal["crime_recorded"] = "crime_recorded"
    event_id: str
    crime: CrimeRecordedData


class LedgerCrimeCancelled(Internal):
    kind: Literal["crime_cancelled"] = "crime_cancelled"
    event_id: str
    cancellation: CrimeCancelledData


LedgerMessage = Annotated[
    LedgerIncident | LedgerCrimeRecorded | LedgerCrimeCancelled,
    Field(discriminator="kind"),
]
