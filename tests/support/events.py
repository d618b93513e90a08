"""Wire events as upstream systems send them (CloudEvents JSON), for the tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(
    event_type: str,
    data: dict[str, Any],
    time: datetime,
    event_id: str | None = None,
    source: str = "urn:test:storm",
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": stamp(time),
        "datacontenttype": "application/json",
        "data": data,
    }


def reported(
    incident_id: str,
    at: datetime,
    *,
    crime_related: bool = True,
    category: str = "violence",
    division: str | None = "city",
    channel: str = "999",
    force: str = "leicestershire",
    event_id: str | None = None,
) -> dict[str, Any]:
    data = {
        "incident_id": incident_id,
        "force": force,
        "reported_at": stamp(at),
        "channel": channel,
        "category": category,
        "crime_related": crime_related,
        "division": division,
        "grade": "2",
    }
    return envelope("cdi.incident.reported", data, at, event_id)


def updated(
    incident_id: str,
    at: datetime,
    *,
    crime_related: bool | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"incident_id": incident_id, "updated_at": stamp(at)}
    if crime_related is not None:
        data["crime_related"] = crime_related
    if category is not None:
        data["category"] = category
    return envelope("cdi.incident.updated", data, at)


def closed(
    incident_id: str, at: datetime, code: str = "no_crime", team: str | None = None
) -> dict[str, Any]:
    data = {"incident_id": incident_id, "closed_at": stamp(at), "closing_code": code}
    if team is not None:
        data["closed_by_team"] = team
    return envelope("cdi.incident.closed", data, at)


def recorded(
    crime_id: str,
    incident_ids: list[str],
    at: datetime,
    *,
    offence_code: str = "8N",
    offence_group: str = "violence_against_the_person",
    victim_ref: str | None = "V-1A2B3C",
    event_id: str | None = None,
) -> dict[str, Any]:
    data = {
        "crime_id": crime_id,
        "incident_ids": incident_ids,
        "recorded_at": stamp(at),
        "offence_code": offence_code,
        "offence_group": offence_group,
        "victim_ref": victim_ref,
        "victim_consents_to_referral": True,
    }
    return envelope("cdi.crime.recorded", data, at, event_id, source="urn:test:niche")


def cancelled(crime_id: str, at: datetime, reason: str = "recorded_in_error") -> dict[str, Any]:
    data = {"crime_id": crime_id, "cancelled_at": stamp(at), "reason": reason}
    return envelope("cdi.crime.cancelled", data, at, source="urn:test:niche")
