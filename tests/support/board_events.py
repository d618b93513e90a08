"""The monitor's outputs as the board reads them (recording-alerts, recording-outcomes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.events import envelope, stamp

TARGET = timedelta(hours=24)


def _facts(incident_id: str, reported_at: datetime, division: str | None, category: str) -> dict:
    return {
        "incident_id": incident_id,
        "force": "leicestershire",
        "reported_at": stamp(reported_at),
        "deadline": stamp(reported_at + TARGET),
        "channel": "999",
        "category": category,
        "division": division,
    }


def alert_id(incident_id: str) -> str:
    return f"alert-{incident_id}"


def due_soon(
    incident_id: str,
    reported_at: datetime,
    *,
    division: str | None = "city",
    category: str = "violence",
) -> dict[str, Any]:
    raised = reported_at + timedelta(hours=20)
    data = {
        **_facts(incident_id, reported_at, division, category),
        "alert_id": alert_id(incident_id),
        "raised_at": stamp(raised),
        "remaining_seconds": 4 * 3600.0,
    }
    return envelope("cdi.recording.due_soon", data, raised, f"{alert_id(incident_id)}:due_soon")


def overdue(
    incident_id: str,
    reported_at: datetime,
    *,
    division: str | None = "city",
    category: str = "violence",
) -> dict[str, Any]:
    since = reported_at + TARGET
    data = {
        **_facts(incident_id, reported_at, division, category),
        "alert_id": alert_id(incident_id),
        "overdue_since": stamp(since),
    }
    return envelope("cdi.recording.overdue", data, since, f"{alert_id(incident_id)}:overdue")


def resolved(
    incident_id: str,
    reported_at: datetime,
    recorded_at: datetime,
    *,
    division: str | None = "city",
    category: str = "violence",
    crime_id: str = "CR/1/26",
) -> dict[str, Any]:
    data = {
        **_facts(incident_id, reported_at, division, category),
        "alert_id": alert_id(incident_id),
        "resolution": "recorded",
        "resolved_at": stamp(recorded_at),
        "late": recorded_at - reported_at > TARGET,
        "crime_id": crime_id,
        "was_overdue": recorded_at - reported_at > TARGET,
    }
    return envelope(
        "cdi.recording.resolved", data, recorded_at, f"{alert_id(incident_id)}:resolved"
    )


def measured(
    incident_id: str,
    reported_at: datetime,
    recorded_at: datetime,
    *,
    division: str | None = "city",
    category: str = "violence",
    crime_id: str = "CR/1/26",
) -> dict[str, Any]:
    elapsed = max((recorded_at - reported_at).total_seconds(), 0.0)
    data = {
        **_facts(incident_id, reported_at, division, category),
        "crime_id": crime_id,
        "recorded_at": stamp(recorded_at),
        "elapsed_seconds": elapsed,
        "target_seconds": TARGET.total_seconds(),
        "within_target": elapsed <= TARGET.total_seconds(),
        "recorded_before_report": recorded_at < reported_at,
    }
    return envelope(
        "cdi.recording.measured", data, recorded_at, f"measured-{incident_id}-{crime_id}"
    )
