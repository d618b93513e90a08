"""Topic ``crime-records`` (Kafka key = first linked incident id, else ``crime_id``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.common import CrimeId, IncidentId, Slug, Timestamp
from schemas.envelope import CloudEvent, Data
from schemas.event_types import EventType


class CancellationReason(StrEnum):
    ADDITIONAL_VERIFIABLE_INFORMATION = "additional_verifiable_information"
    RECORDED_IN_ERROR = "recorded_in_error"
    TRANSFERRED = "transferred"


VictimRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_:./-]*$"),
    Field(
        description="Pseudonymous victim reference; never a name (no spaces allowed)",
        examples=["V-7F3A91"],
    ),
]


class CrimeRecordedData(Data):
    crime_id: CrimeId
    incident_ids: list[IncidentId] = Field(
        max_length=100, description="Incidents this crime was recorded from; may be empty"
    )
    recorded_at: Timestamp
    offence_code: Annotated[
        str, StringConstraints(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z./-]+$")
    ] = Field(description="Home Office offence code", examples=["8N", "105A"])
    offence_group: Slug = Field(examples=["violence_against_the_person"])
    victim_ref: VictimRef | None = None
    victim_consents_to_referral: bool | None = Field(
        default=None,
        description="The victim's answer to a referral to victim support: true (consents), "
        "false (declined) or absent (not asked or not recorded)",
    )
    domestic_abuse: bool | None = Field(
        default=None,
        description="The crime is flagged domestic abuse-related; its referral needs explicit "
        "consent. Optional; added in contract 1.1",
    )
    victim_bereaved_relative: bool | None = Field(
        default=None,
        description="The victim reference is a bereaved relative (homicide, death by driving); "
        "the referral needs explicit consent. Optional; added in contract 1.1",
    )


class CrimeCancelledData(Data):
    crime_id: CrimeId
    cancelled_at: Timestamp
    reason: CancellationReason


class CrimeRecorded(CloudEvent):
    type: Literal[EventType.CRIME_RECORDED]
    data: CrimeRecordedData


class CrimeCancelled(CloudEvent):
    type: Literal[EventType.CRIME_CANCELLED]
    data: CrimeCancelledData


CrimeEvent = Annotated[CrimeRecorded | CrimeCancelled, Field(discriminator="type")]
