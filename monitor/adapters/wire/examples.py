"""One example of every public event, for the AsyncAPI document.

Inputs are written as an upstream system would send them and validated by
their models; outputs are produced by the worker's own encoders from domain
facts, so the examples are exactly what a subscriber receives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.adapters.wire.inbound import Rejected
from monitor.adapters.wire.outbound import encode_dead_letter, encode_fact
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import (
    ClosingCode,
    CrimeRecorded,
    IncidentClosed,
    IncidentReported,
    links_of,
)
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import advance
from monitor.domain.referral import ReferralPolicy
from monitor.domain.working_days import WorkingDayCalendar
from schemas.dead_letters import RejectionKind
from schemas.event_types import EventType
from schemas.export import INPUTS

SOURCE = "urn:cdi-monitor"
# Monday 13 May 2024, 09:00 UTC (10:00 BST).
T0 = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cloud_event(event_type: str, event_id: str, source: str, at: datetime, data: dict) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": _stamp(at),
        "datacontenttype": "application/json",
        "subject": data.get("incident_id") or data.get("crime_id"),
        "data": data,
    }


def _inputs() -> dict[str, dict[str, Any]]:
    incident = "LP-20240513-0173"
    storm, niche = "urn:force:leicestershire:storm", "urn:force:leicestershire:niche"
    events: dict[str, dict[str, Any]] = {
        EventType.INCIDENT_REPORTED: _cloud_event(
            EventType.INCIDENT_REPORTED, "storm-7f3a91-1", storm, T0,
            {"incident_id": incident, "force": "leicestershire", "reported_at": _stamp(T0),
             "channel": "999", "category": "violence", "crime_related": True,
             "division": "city", "grade": "2"},
        ),
        EventType.INCIDENT_UPDATED: _cloud_event(
            EventType.INCIDENT_UPDATED, "storm-7f3a91-2", storm, T0 + H,
            {"incident_id": incident, "updated_at": _stamp(T0 + H), "crime_related": True,
             "category": "domestic_abuse"},
        ),
        EventType.INCIDENT_CLOSED: _cloud_event(
            EventType.INCIDENT_CLOSED, "storm-7f3a91-3", storm, T0 + 30 * H,
            {"incident_id": incident, "closed_at": _stamp(T0 + 30 * H),
             "closing_code": "crime_recorded"},
        ),
        EventType.CRIME_RECORDED: _cloud_event(
            EventType.CRIME_RECORDED, "niche-cr-012345-1", niche, T0 + 3 * H,
            {"crime_id": "CR/012345/24", "incident_ids": [incident],
             "recorded_at": _stamp(T0 + 3 * H), "offence_code": "8N",
             "offence_group": "violence_against_the_person", "victim_ref": "V-7F3A91",
             "victim_consents_to_referral": True, "domestic_abuse": False,
             "victim_bereaved_relative": False},
        ),
        EventType.CRIME_CANCELLED: _cloud_event(
            EventType.CRIME_CANCELLED, "niche-cr-012345-2", niche, T0 + 72 * H,
            {"crime_id": "CR/012345/24", "cancelled_at": _stamp(T0 + 72 * H),
             "reason": "additional_verifiable_information"},
        ),
    }  # fmt: skip
    for event_type, event in events.items():
        INPUTS[event_type].model_validate(event)  # an example that would be refused is a bug
    return events


def _facts(referrals: ReferralPolicy) -> list[Any]:
    policy = TimelinessPolicy(referrals=referrals)
    facts: list[Any] = []

    def run(incident: str, *events: Any, now: datetime) -> None:
        state = IncidentState(incident)
        for event in events:
            state = apply(state, event)
        facts.extend(advance(state, now=now, policy=policy)[1])

    def report(incident: str, category: str = "violence") -> IncidentReported:
        return IncidentReported(
            f"rep-{incident}", incident, "leicestershire", T0, "999", category, True, "city", "2"
        )

    def crime(crime_id: str, incident: str, after: timedelta, **victim: Any) -> CrimeRecorded:
        return CrimeRecorded(
            f"rec-{crime_id}", crime_id, (incident,), T0 + after, "8N",
            victim.pop("group", "violence_against_the_person"), **victim,
        )  # fmt: skip

    # Recorded 30 hours after the report: measured late, due soon, overdue, resolved;
    # its victim's referral is due, and was at risk.
    late = crime("CR/012346/24", "LP-20240513-0174", 30 * H, victim_ref="V-7F3A92")
    run("LP-20240513-0174", report("LP-20240513-0174"), *links_of(late), now=T0 + 31 * H)
    # A sexual offence with no recorded consent, recorded after its referral was due.
    withheld = crime(
        "CR/012347/24", "LP-20240513-0175", 80 * H, victim_ref="V-7F3A93", group="sexual_offences"
    )
    run("LP-20240513-0175", report("LP-20240513-0175", "sexual_offence"), *links_of(withheld),
        now=T0 + 10 * H)  # fmt: skip
    # Closed as a duplicate before any recording.
    closed = IncidentClosed("cls-0176", "LP-20240513-0176", T0 + 2 * H, ClosingCode.DUPLICATE)
    run("LP-20240513-0176", report("LP-20240513-0176"), closed, now=T0 + 3 * H)
    return facts


def examples(calendar: WorkingDayCalendar, schema_base: str) -> dict[str, dict[str, Any]]:
    """Event type to one example event, for every public event type."""
    found: dict[str, dict[str, Any]] = dict(_inputs())
    for fact in _facts(ReferralPolicy(calendar=calendar)):
        out = encode_fact(fact, source=SOURCE, schema_base=schema_base)
        found.setdefault(out.event_type, json.loads(out.value))
    dead = encode_dead_letter(
        Rejected(
            RejectionKind.INVALID,
            "invalid cdi.crime.recorded: data.recorded_at: not an RFC 3339 timestamp with an "
            "offset (expected e.g. 2024-05-01T09:30:00Z or 2024-05-01T10:30:00+01:00)",
            errors=[
                (
                    "data.recorded_at",
                    "not an RFC 3339 timestamp with an offset "
                    "(expected e.g. 2024-05-01T09:30:00Z or 2024-05-01T10:30:00+01:00)",
                )
            ],
            event_id="niche-cr-012346",
            event_type=EventType.CRIME_RECORDED,
        ),
        source=SOURCE,
        topic="crime-records",
        partition=3,
        offset=1024,
        timestamp=T0.timestamp(),
        key=b"LP-20240513-0177",
        value=b'{"specversion":"1.0","type":"cdi.crime.recorded","id":"niche-cr-012346",'
        b'"data":{"crime_id":"CR/012346/24","recorded_at":"2024-05-13T12:00:00",'
        b'"victim_ref":"V-7F3A92"}}',
        received_at=T0 + H,
        schema_base=schema_base,
    )
    found[dead.event_type] = json.loads(dead.value)
    return found
