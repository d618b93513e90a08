"""Writes the JSON Schema of every public event into ``schemas/json`` (and checks it).

Inputs are described as we validate them; outputs as we serialise them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from schemas import alerts, crimes, dead_letters, incidents, outcomes, referrals
from schemas.event_types import EventType

JSON_DIR = Path(__file__).parent / "json"

INPUTS: dict[str, type[BaseModel]] = {
    EventType.INCIDENT_REPORTED: incidents.IncidentReported,
    EventType.INCIDENT_UPDATED: incidents.IncidentUpdated,
    EventType.INCIDENT_CLOSED: incidents.IncidentClosed,
    EventType.CRIME_RECORDED: crimes.CrimeRecorded,
    EventType.CRIME_CANCELLED: crimes.CrimeCancelled,
}
OUTPUTS: dict[str, type[BaseModel]] = {
    EventType.RECORDING_MEASURED: outcomes.RecordingMeasured,
    EventType.CLOSED_WITHOUT_CRIME: outcomes.IncidentClosedWithoutCrime,
    EventType.DUE_SOON: alerts.RecordingDueSoon,
    EventType.OVERDUE: alerts.RecordingOverdue,
    EventType.RESOLVED: alerts.RecordingResolved,
    EventType.INPUT_REJECTED: dead_letters.InputRejected,
    EventType.REFERRAL_DUE: referrals.ReferralDue,
    EventType.REFERRAL_WITHHELD: referrals.ReferralWithheld,
    EventType.REFERRAL_AT_RISK: referrals.ReferralAtRisk,
    EventType.REFERRAL_WINDOW_MISSED: referrals.ReferralWindowMissed,
}


def render() -> dict[str, str]:
    """File name to JSON text, for every public event type."""
    files = {}
    for event_type, model in {**INPUTS, **OUTPUTS}.items():
        mode: Literal["validation", "serialization"] = (
            "validation" if event_type in INPUTS else "serialization"
        )
        schema = model.model_json_schema(mode=mode)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{event_type}.schema.json",
            **schema,
        }
        files[f"{event_type}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def stale(directory: Path = JSON_DIR) -> list[str]:
    """The schema files that differ from the models (missing, changed or left over)."""
    wanted = render()
    present = {p.name for p in directory.glob("*.schema.json")} if directory.exists() else set()
    changed = [
        name
        for name, text in wanted.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]
    return sorted(changed + sorted(present - wanted.keys()))


def write(directory: Path = JSON_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in {p.name for p in directory.glob("*.schema.json")} - render().keys():
        (directory / leftover).unlink()
    for name, text in render().items():
        (directory / name).write_text(text)
    return sorted(render())
