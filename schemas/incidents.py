"""Topic ``incidents`` (Kafka key = ``incident_id``): the command-and-control system."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.common import IncidentId, Name, Slug, Timestamp
from schemas.envelope import CloudEvent, Data
from schemas.event_types import EventType


class Channel(StrEnum):
    EMERGENCY_999 = "999"
    NON_EMERGENCY_101 = "101"
    ONLINE = "online"
    IN_PERSON = "in_person"
    THIRD_PARTY = "third_party"
    OTHER = "other"


class ClosingCode(StrEnum):
    CRIME_RECORDED = "crime_recorded"
    NO_CRIME = "no_crime"
    NON_CRIME_INCIDENT = "non_crime_incident"
    DUPLICATE = "duplicate"
    TRANSFERRED_OTHER_FORCE = "transferred_other_force"
    OTHER = "other"


Category = Annotated[
    Slug,
    Field(
        description="Opening category chosen by the call handler",
        examples=[
            "violence",
            "sexual_offence",
            "domestic_abuse",
            "harassment",
            "malicious_communications",
            "theft",
            "burglary",
            "criminal_damage",
            "fraud",
            "asb",
            "public_safety",
            "other",
        ],
    ),
]


class IncidentReportedData(Data):
    incident_id: IncidentId
    force: Name = Field(examples=["leicestershire"])
    reported_at: Timestamp = Field(description="When the report was received")
    channel: Channel
    category: Category
    crime_related: bool = Field(description="Whether the report discloses a crime")
    division: Name | None = Field(default=None, examples=["city"])
    grade: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = Field(
        default=None, description="Response grade", examples=["1", "2", "3"]
    )


class IncidentUpdatedData(Data):
    incident_id: IncidentId
    updated_at: Timestamp
    crime_related: bool | None = Field(
        default=None, description="New crime-related flag, when triage changed it"
    )
    category: Category | None = None


class IncidentClosedData(Data):
    incident_id: IncidentId
    closed_at: Timestamp
    closing_code: ClosingCode
    closed_by_team: Name | None = Field(
        default=None,
        description="The team that closed the incident, for feedback from the internal audit",
        examples=["city_response_a"],
    )


class IncidentReported(CloudEvent):
    type: Literal[EventType.INCIDENT_REPORTED]
    data: IncidentReportedData


class IncidentUpdated(CloudEvent):
    type: Literal[EventType.INCIDENT_UPDATED]
    data: IncidentUpdatedData


class IncidentClosed(CloudEvent):
    type: Literal[EventType.INCIDENT_CLOSED]
    data: IncidentClosedData


IncidentEvent = Annotated[
    IncidentReported | IncidentUpdated | IncidentClosed, Field(discriminator="type")
]
