"""Raw Kafka values to domain events, or a readable reason why not.

Validation is strict (no type coercion) against the models in ``schemas``;
the validated event is turned into a domain value here, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from monitor.adapters.safe_errors import SafeToShow
from monitor.domain.inputs import (
    ClosingCode,
    CrimeCancelled,
    CrimeRecorded,
    IncidentClosed,
    IncidentInput,
    IncidentReported,
    IncidentUpdated,
)
from schemas import crimes as crime_wire
from schemas import incidents as incident_wire
from schemas.dead_letters import RejectionKind
from schemas.event_types import EventType

_INCIDENTS = TypeAdapter(incident_wire.IncidentEvent)
_CRIMES = TypeAdapter(crime_wire.CrimeEvent)
# What each topic accepts, as a rejection names it.
_EXPECTED = {
    "incidents": ", ".join(
        repr(t.value)
        for t in (
            EventType.INCIDENT_REPORTED,
            EventType.INCIDENT_UPDATED,
            EventType.INCIDENT_CLOSED,
        )
    ),
    "crime-records": ", ".join(
        repr(t.value) for t in (EventType.CRIME_RECORDED, EventType.CRIME_CANCELLED)
    ),
}
_MAX_ERRORS = 20


@dataclass
class Rejected(SafeToShow, Exception):
    """An input that cannot be accepted, with everything a dead letter needs.

    Its reason and errors quote no input: they go to logs and dead letters.
    """

    kind: RejectionKind
    reason: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    event_id: str | None = None
    event_type: str | None = None

    def __str__(self) -> str:
        return self.reason


def decode_incident_event(raw: bytes | None, *, max_bytes: int) -> IncidentInput:
    event = _validate(_INCIDENTS, raw, max_bytes, "incidents")
    match event:
        case incident_wire.IncidentReported(id=event_id, data=d):
            return IncidentReported(
                event_id=event_id,
                incident_id=d.incident_id,
                force=d.force,
                reported_at=d.reported_at,
                channel=d.channel.value,
                category=d.category,
                crime_related=d.crime_related,
                division=d.division,
                grade=d.grade,
            )
        case incident_wire.IncidentUpdated(id=event_id, data=d):
            return IncidentUpdated(
                event_id=event_id,
                incident_id=d.incident_id,
                updated_at=d.updated_at,
                crime_related=d.crime_related,
                category=d.category,
            )
        case incident_wire.IncidentClosed(id=event_id, data=d):
            return IncidentClosed(
                event_id=event_id,
                incident_id=d.incident_id,
                closed_at=d.closed_at,
                closing_code=ClosingCode(d.closing_code.value),
                closed_by_team=d.closed_by_team,
            )
    raise AssertionError(f"unhandled incident event {event!r}")


def decode_crime_event(raw: bytes | None, *, max_bytes: int) -> CrimeRecorded | CrimeCancelled:
    event = _validate(_CRIMES, raw, max_bytes, "crime-records")
    match event:
        case crime_wire.CrimeRecorded(id=event_id, data=d):
            return CrimeRecorded(
                event_id=event_id,
                crime_id=d.crime_id,
                incident_ids=tuple(d.incident_ids),
                recorded_at=d.recorded_at,
                offence_code=d.offence_code,
                offence_group=d.offence_group,
                victim_ref=d.victim_ref,
                victim_consents_to_referral=d.victim_consents_to_referral,
                domestic_abuse=d.domestic_abuse,
                victim_bereaved_relative=d.victim_bereaved_relative,
            )
        case crime_wire.CrimeCancelled(id=event_id, data=d):
            return CrimeCancelled(
                event_id=event_id,
                crime_id=d.crime_id,
                cancelled_at=d.cancelled_at,
                reason=d.reason.value,
            )
    raise AssertionError(f"unhandled crime event {event!r}")


def _validate(adapter: TypeAdapter, raw: bytes | None, max_bytes: int, topic: str) -> Any:
    if raw is None:
        raise Rejected(RejectionKind.NOT_AN_EVENT, "the message has no value (a tombstone?)")
    if len(raw) > max_bytes:
        raise Rejected(
            RejectionKind.TOO_LARGE,
            f"the message is {len(raw)} bytes, more than the {max_bytes}-byte limit",
        )
    try:
        # Strict: no coercion of "true" to a bool or of epoch numbers to times.
        return adapter.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(exc, raw, topic) from None


def _classify(exc: ValidationError, raw: bytes, topic: str) -> Rejected:
    first = exc.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        detail = first.get("ctx", {}).get("error", first["msg"])
        return Rejected(RejectionKind.NOT_JSON, f"the value is not valid JSON: {detail}")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return Rejected(RejectionKind.NOT_JSON, "the value is not JSON this service can read")
    if not isinstance(document, dict):
        return Rejected(
            RejectionKind.NOT_AN_EVENT,
            f"the value is a JSON {type(document).__name__}, not a CloudEvent object",
        )
    return _explain(exc, topic, _text(document.get("id")), _text(document.get("type")))


def _text(value: object) -> str | None:
    return value[:256] if isinstance(value, str) else None


def _explain(
    exc: ValidationError, topic: str, event_id: str | None, event_type: str | None
) -> Rejected:
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        kind = error["type"]
        if kind == "union_tag_invalid":
            return Rejected(
                RejectionKind.UNKNOWN_TYPE,
                f"unknown event type {event_type!r} on topic {topic!r}; expected one of "
                f"{_EXPECTED[topic]}",
                event_id=event_id,
                event_type=event_type,
            )
        if kind == "union_tag_not_found":
            return Rejected(
                RejectionKind.NOT_AN_EVENT,
                "not a CloudEvent: the 'type' attribute is missing",
                event_id=event_id,
            )
        # The first element of the location is the union tag (the event type).
        location = ".".join(str(part) for part in error["loc"][1:]) or "(event)"
        errors.append((location, str(error["msg"]).removeprefix("Value error, ")))
    shown = "; ".join(f"{loc}: {msg}" for loc, msg in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Rejected(
        RejectionKind.INVALID,
        f"invalid {event_type or 'event'}: {shown}{more}",
        errors=errors[:_MAX_ERRORS],
        event_id=event_id,
        event_type=event_type,
    )
