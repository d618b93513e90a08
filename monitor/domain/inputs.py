"""What upstream systems tell us happened: the domain's input events.

These are plain values converted once, at the edge, from the validated wire
events in ``schemas``. Times are timezone-aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ClosingCode(StrEnum):
    CRIME_RECORDED = "crime_recorded"
    NO_CRIME = "no_crime"
    NON_CRIME_INCIDENT = "non_crime_incident"
    DUPLICATE = "duplicate"
    TRANSFERRED_OTHER_FORCE = "transferred_other_force"
    OTHER = "other"

    @property
    def stops_the_clock(self) -> bool:
        """Every closing but ``crime_recorded`` ends the incident without a crime record.

        Closed as ``crime_recorded`` while no crime record has arrived does not
        stop the clock: the record is what counts, not the closing code.
        """
        return self is not ClosingCode.CRIME_RECORDED


@dataclass(frozen=True, slots=True)
class IncidentReported:
    """A report became an incident in the command-and-control system."""

    event_id: str
    incident_id: str
    force: str
    reported_at: datetime
    channel: str
    category: str
    crime_related: bool
    division: str | None = None
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentUpdated:
    """Triage changed what an incident is (a crime found in a non-crime call, say)."""

    event_id: str
    incident_id: str
    updated_at: datetime
    crime_related: bool | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentClosed:
    event_id: str
    incident_id: str
    closed_at: datetime
    closing_code: ClosingCode
    closed_by_team: str | None = None


@dataclass(frozen=True, slots=True)
class CrimeRecorded:
    """A crime record was created in the records system, linking zero or more incidents."""

    event_id: str
    crime_id: str
    incident_ids: tuple[str, ...]
    recorded_at: datetime
    offence_code: str
    offence_group: str
    victim_ref: str | None = None
    victim_consents_to_referral: bool | None = None
    domestic_abuse: bool | None = None
    victim_bereaved_relative: bool | None = None


@dataclass(frozen=True, slots=True)
class CrimeVictim:
    """What a victim-support referral needs to know of a crime with a victim.

    Carried only to the crime's first-named incident: that incident owns the
    referral, so a crime naming several incidents is referred once.
    """

    crime_id: str
    event_id: str
    recorded_at: datetime
    offence_code: str
    offence_group: str
    victim_ref: str
    consents: bool | None = None
    domestic_abuse: bool | None = None
    bereaved_relative: bool | None = None


def victim_of(crime: CrimeRecorded) -> CrimeVictim | None:
    """The crime's victim for referral purposes, or None when it names no victim."""
    if crime.victim_ref is None:
        return None
    return CrimeVictim(
        crime_id=crime.crime_id,
        event_id=crime.event_id,
        recorded_at=crime.recorded_at,
        offence_code=crime.offence_code,
        offence_group=crime.offence_group,
        victim_ref=crime.victim_ref,
        consents=crime.victim_consents_to_referral,
        domestic_abuse=crime.domestic_abuse,
        bereaved_relative=crime.victim_bereaved_relative,
    )


@dataclass(frozen=True, slots=True)
class CrimeCancelled:
    """A recorded crime was cancelled. It still counts as recorded for timeliness."""

    event_id: str
    crime_id: str
    cancelled_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class CrimeLinked:
    """One incident named by a crime record: the unit the recording clock consumes."""

    event_id: str
    incident_id: str
    crime_id: str
    recorded_at: datetime
    victim: CrimeVictim | None = None


IncidentInput = IncidentReported | IncidentUpdated | IncidentClosed | CrimeLinked
"""Every event that changes one incident's recording clock."""


def links_of(crime: CrimeRecorded) -> tuple[CrimeLinked, ...]:
    """Each distinct incident a crime names is measured on its own.

    A crime that names no incident gives no links: it cannot be measured and
    is counted as unlinked. The victim, if any, travels only with the link to
    the first-named incident, which owns the crime's referral.
    """
    seen: dict[str, None] = dict.fromkeys(crime.incident_ids)
    victim = victim_of(crime)
    return tuple(
        CrimeLinked(
            event_id=crime.event_id,
            incident_id=incident_id,
            crime_id=crime.crime_id,
            recorded_at=crime.recorded_at,
            victim=victim if position == 0 else None,
        )
        for position, incident_id in enumerate(seen)
    )


def event_time(event: IncidentInput | CrimeRecorded | CrimeCancelled) -> datetime:
    """The business time an event speaks of (not when it reached Kafka)."""
    match event:
        case IncidentReported(reported_at=t) | IncidentUpdated(updated_at=t):
            return t
        case (
            IncidentClosed(closed_at=t) | CrimeLinked(recorded_at=t) | CrimeRecorded(recorded_at=t)
        ):
            return t
        case CrimeCancelled(cancelled_at=t):
            return t
    raise TypeError(f"not an input event: {event!r}")
