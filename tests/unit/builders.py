"""Small builders for domain values, so tests read as the rule they check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.domain.inputs import (
    ClosingCode,
    CrimeLinked,
    IncidentClosed,
    IncidentReported,
    IncidentUpdated,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
S = timedelta(seconds=1)


def reported(
    at: datetime = T0,
    incident: str = "INC-1",
    crime_related: bool = True,
    event_id: str | None = None,
    category: str = "violence",
    division: str | None = "city",
) -> IncidentReported:
    return IncidentReported(
        event_id=event_id or f"rep-{incident}",
        incident_id=incident,
        force="leicestershire",
        reported_at=at,
        channel="999",
        category=category,
        crime_related=crime_related,
        division=division,
        grade="2",
    )


def recorded(
    at: datetime, crime: str = "CR-1", incident: str = "INC-1", event_id: str | None = None
) -> CrimeLinked:
    return CrimeLinked(
        event_id=event_id or f"rec-{crime}", incident_id=incident, crime_id=crime, recorded_at=at
    )


def flagged(
    at: datetime,
    incident: str = "INC-1",
    crime_related: bool | None = True,
    category: str | None = None,
) -> IncidentUpdated:
    return IncidentUpdated(
        event_id=f"upd-{incident}-{at.isoformat()}",
        incident_id=incident,
        updated_at=at,
        crime_related=crime_related,
        category=category,
    )


def closed(
    at: datetime,
    code: ClosingCode = ClosingCode.NO_CRIME,
    incident: str = "INC-1",
    team: str | None = None,
) -> IncidentClosed:
    return IncidentClosed(
        event_id=f"cls-{incident}-{code}",
        incident_id=incident,
        closed_at=at,
        closing_code=code,
        closed_by_team=team,
    )
