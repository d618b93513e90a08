"""The CloudEvents ``type`` of every event on the wire, named once for the whole project.

The event models (``schemas``) declare their ``type`` with these members; the
worker, the board, the demo, the simulator and the benchmark compare with
them, so a type can only be spelled one way.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # Inputs: from command-and-control and the crime records system.
    INCIDENT_REPORTED = "cdi.incident.reported"
    INCIDENT_UPDATED = "cdi.incident.updated"
    INCIDENT_CLOSED = "cdi.incident.closed"
    CRIME_RECORDED = "cdi.crime.recorded"
    CRIME_CANCELLED = "cdi.crime.cancelled"
    # Outcomes.
    RECORDING_MEASURED = "cdi.recording.measured"
    CLOSED_WITHOUT_CRIME = "cdi.incident.closed_without_crime"
    # Alerts.
    DUE_SOON = "cdi.recording.due_soon"
    OVERDUE = "cdi.recording.overdue"
    RESOLVED = "cdi.recording.resolved"
    # Victim-support referrals.
    REFERRAL_DUE = "cdi.victim.referral_due"
    REFERRAL_WITHHELD = "cdi.victim.referral_withheld"
    REFERRAL_AT_RISK = "cdi.victim.referral_at_risk"
    REFERRAL_WINDOW_MISSED = "cdi.victim.referral_window_missed"
    # Dead letters.
    INPUT_REJECTED = "cdi.input.rejected"


_OF_INPUT = {
    "IncidentReported": EventType.INCIDENT_REPORTED,
    "IncidentUpdated": EventType.INCIDENT_UPDATED,
    "IncidentClosed": EventType.INCIDENT_CLOSED,
    "CrimeRecorded": EventType.CRIME_RECORDED,
    "CrimeCancelled": EventType.CRIME_CANCELLED,
}


def type_of(event: object) -> str:
    """The event type of a domain input (``monitor.domain.inputs``), by its class name."""
    name = type(event).__name__
    return _OF_INPUT.get(name, name)
