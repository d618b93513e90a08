"""Decoding inputs: strict validation, and a readable reason for everything refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.adapters.wire.inbound import Rejected, decode_crime_event, decode_incident_event
from monitor.domain.inputs import ClosingCode, CrimeRecorded, IncidentClosed, IncidentReported
from schemas.dead_letters import RejectionKind
from tests.support import events as ev

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
LIMIT = 256 * 1024


def incident(event: dict) -> object:
    return decode_incident_event(json.dumps(event).encode(), max_bytes=LIMIT)


def rejected(raw: bytes | dict, topic: str = "incidents") -> Rejected:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    decode = decode_incident_event if topic == "incidents" else decode_crime_event
    with pytest.raises(Rejected) as info:
        decode(data, max_bytes=LIMIT)
    return info.value


def test_a_valid_report_becomes_a_domain_event_with_its_times_kept_exact() -> None:
    event = ev.reported("INC-1", AT)
    event["data"]["reported_at"] = "2024-05-01T10:30:00.123456+01:00"
    decoded = incident(event)
    assert isinstance(decoded, IncidentReported)
    assert decoded.reported_at == datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)
    assert decoded.reported_at.utcoffset() == timedelta(hours=1)
    assert decoded.event_id == event["id"] and decoded.channel == "999"


def test_a_closing_and_a_crime_record_decode_to_their_domain_events() -> None:
    closed = incident(ev.closed("INC-1", AT, "duplicate"))
    assert isinstance(closed, IncidentClosed) and closed.closing_code is ClosingCode.DUPLICATE
    crime = decode_crime_event(
        json.dumps(ev.recorded("CR-1", ["INC-1", "INC-2"], AT)).encode(), max_bytes=LIMIT
    )
    assert isinstance(crime, CrimeRecorded) and crime.incident_ids == ("INC-1", "INC-2")


def test_unknown_payload_fields_and_cloudevents_extensions_are_accepted() -> None:
    event = ev.reported("INC-1", AT)
    event["data"]["new_field_from_upstream"] = 1
    event["traceparent"] = "00-abc-def-01"
    assert isinstance(incident(event), IncidentReported)


def test_identifiers_may_be_any_printable_unicode() -> None:
    assert incident(ev.reported("INC-Ünïcødé-✓", AT)).incident_id == "INC-Ünïcødé-✓"


def _with(field: str, value: object, event: dict | None = None) -> dict:
    event = event or ev.reported("INC-1", AT)
    event["data"][field] = value
    return event


@pytest.mark.parametrize(
    ("event", "kind", "says"),
    [
        (b"\xff\xfe not text", RejectionKind.NOT_JSON, "not valid JSON"),
        (b"{", RejectionKind.NOT_JSON, "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, RejectionKind.NOT_JSON, "recursion"),
        (b'"a string"', RejectionKind.NOT_AN_EVENT, "not a CloudEvent"),
        (b'{"data": {}}', RejectionKind.NOT_AN_EVENT, "'type' attribute is missing"),
        (
            ev.envelope("cdi.incident.deleted", {}, AT),
            RejectionKind.UNKNOWN_TYPE,
            "cdi.incident.deleted",
        ),
        (_with("reported_at", "2024-05-01T09:30:00"), RejectionKind.INVALID, "with an offset"),
        (_with("reported_at", "2024-05-01 09:30:00Z"), RejectionKind.INVALID, "RFC 3339"),
        (_with("reported_at", 1714555800), RejectionKind.INVALID, "RFC 3339"),
        (
            _with("reported_at", "2024-02-30T09:30:00Z"),
            RejectionKind.INVALID,
            "day is out of range",
        ),
        (_with("reported_at", "9999-12-31T23:00:00Z"), RejectionKind.INVALID, "out of range"),
        (_with("crime_related", "true"), RejectionKind.INVALID, "data.crime_related"),
        (_with("channel", "pigeon"), RejectionKind.INVALID, "data.channel"),
        (_with("incident_id", ""), RejectionKind.INVALID, "data.incident_id"),
        (_with("incident_id", "x" * 65), RejectionKind.INVALID, "at most 64"),
        (_with("incident_id", "INC\n1"), RejectionKind.INVALID, "data.incident_id"),
        (_with("incident_id", 42), RejectionKind.INVALID, "data.incident_id"),
        ({**ev.reported("INC-1", AT), "specversion": "0.3"}, RejectionKind.INVALID, "specversion"),
    ],
)
def test_an_input_that_breaks_the_contract_is_refused_with_the_reason(event, kind, says) -> None:
    refusal = rejected(event)
    assert refusal.kind is kind
    assert says in refusal.reason


def test_a_missing_field_is_named_and_the_event_identified() -> None:
    event = ev.reported("INC-1", AT)
    del event["data"]["force"]
    refusal = rejected(event)
    assert "data.force: Field required" in refusal.reason
    assert refusal.event_id == event["id"] and refusal.event_type == "cdi.incident.reported"
    assert ("data.force", "Field required") in refusal.errors


def test_a_victim_reference_that_looks_like_a_name_is_refused() -> None:
    event = ev.recorded("CR-1", ["INC-1"], AT, victim_ref="Jane Smith")
    assert "data.victim_ref" in rejected(event, topic="crime-records").reason


def test_an_event_larger_than_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(Rejected) as info:
        decode_incident_event(b" " * 2048, max_bytes=1024)
    assert info.value.kind is RejectionKind.TOO_LARGE and "2048 bytes" in info.value.reason


def test_a_tombstone_is_refused() -> None:
    with pytest.raises(Rejected) as info:
        decode_incident_event(None, max_bytes=LIMIT)
    assert info.value.kind is RejectionKind.NOT_AN_EVENT


def test_a_crime_event_on_the_incidents_topic_is_an_unknown_type_there() -> None:
    refusal = rejected(ev.recorded("CR-1", ["INC-1"], AT))
    assert refusal.kind is RejectionKind.UNKNOWN_TYPE and "'incidents'" in refusal.reason


def test_offsets_other_than_utc_are_understood() -> None:
    event = ev.reported("INC-1", AT)
    event["data"]["reported_at"] = "2024-05-01T04:30:00-05:00"
    assert incident(event).reported_at == AT.astimezone(timezone(timedelta(hours=-5)))
