"""Topic ``victim-referrals`` (Kafka key = ``incident_id``): victim-support referrals.

One crime with a victim reference gives one ``cdi.victim.referral_due`` or one
``cdi.victim.referral_withheld``, published from the crime's first-named
incident; ``cdi.victim.referral_at_risk`` or
``cdi.victim.referral_window_missed`` follows when recording delay spent at
least half of the referral window, or all of it. Only ``referral_due``
carries the (pseudonymous) victim reference.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.common import CrimeId, IncidentId, Name, Slug, Timestamp
from schemas.crimes import VictimRef
from schemas.envelope import CloudEvent, OutputData
from schemas.event_types import EventType

OffenceCode = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z./-]+$")
]


class WithheldReason(StrEnum):
    NO_EXPLICIT_CONSENT = "no_explicit_consent"
    VICTIM_DECLINED = "victim_declined"


class ReferralStatus(StrEnum):
    DUE = "due"
    WITHHELD = "withheld"


class ReferralFacts(OutputData):
    """The crime, its incident and the referral window: the same in every referral event."""

    incident_id: IncidentId = Field(description="The crime's first-named incident")
    crime_id: CrimeId
    force: Name
    division: Name | None = None
    offence_code: OffenceCode = Field(description="Home Office offence code", examples=["8N"])
    offence_group: Slug = Field(examples=["violence_against_the_person"])
    reported_at: Timestamp = Field(description="When the incident was reported (UTC)")
    recorded_at: Timestamp = Field(description="When the crime was recorded (UTC)")
    referral_due_by: Timestamp = Field(
        description="End of the working day (17:00 Europe/London by default) 2 working days "
        "after the report's local date, skipping weekends and England and Wales bank "
        "holidays; given with its Europe/London offset (+00:00 or +01:00)",
        examples=["2024-05-15T17:00:00+01:00"],
    )
    window_spent: float = Field(
        ge=0,
        description="Share of the report-to-due window already gone at recording "
        "(0.5 = half, over 1 = missed)",
    )
    remaining_seconds: float = Field(
        description="referral_due_by - recorded_at in seconds; negative once missed"
    )


class ReferralDueData(ReferralFacts):
    victim_ref: VictimRef
    victim_consents_to_referral: bool | None = Field(
        description="true: explicit consent; null: not required and not refused"
    )
    consent_required_because: list[str] = Field(
        description="Why explicit consent was needed (empty when it was not), e.g. "
        "offence_group:sexual_offences, domestic_abuse, incident_category:domestic_abuse, "
        "bereaved_relative"
    )


class ReferralWithheldData(ReferralFacts):
    reason: WithheldReason = Field(
        description="no_explicit_consent: consent is required and was not given; "
        "victim_declined: the victim said no"
    )
    consent_required_because: list[str]


class ReferralAtRiskData(ReferralFacts):
    referral: ReferralStatus = Field(description="Whether the referral is due or withheld")


class ReferralWindowMissedData(ReferralFacts):
    referral: ReferralStatus = Field(description="Whether the referral is due or withheld")
    missed_by_seconds: float = Field(gt=0, description="recorded_at - referral_due_by")


class ReferralDue(CloudEvent):
    """Pass the victim's details to victim support by ``referral_due_by``."""

    type: Literal[EventType.REFERRAL_DUE]
    data: ReferralDueData


class ReferralWithheld(CloudEvent):
    """A referral that must not be made without the victim's consent. No victim data."""

    type: Literal[EventType.REFERRAL_WITHHELD]
    data: ReferralWithheldData


class ReferralAtRisk(CloudEvent):
    """The crime was recorded with at least half the referral window spent (not yet missed)."""

    type: Literal[EventType.REFERRAL_AT_RISK]
    data: ReferralAtRiskData


class ReferralWindowMissed(CloudEvent):
    """The crime was recorded after the referral was due."""

    type: Literal[EventType.REFERRAL_WINDOW_MISSED]
    data: ReferralWindowMissedData
