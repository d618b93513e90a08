"""How ``cdi-monitor subscribe`` prints an event: JSON lines exactly as published, or readable."""

from __future__ import annotations

import json

from monitor.adapters.kafka.subscriber import Received, as_json_line, as_text

EVENT = {
    "specversion": "1.0",
    "id": "a3b2",
    "source": "urn:cdi-monitor",
    "type": "cdi.victim.referral_due",
    "time": "2024-05-13T12:00:00Z",
    "subject": "INC-1",
    "dataschema": "urn:cdi-monitor:schemas:cdi.victim.referral_due.schema.json",
    "data": {"crime_id": "CR/1", "referral_due_by": "2024-05-15T17:00:00+01:00", "late": False},
}


def record(value: bytes | None) -> Received:
    return Received("victim-referrals", 2, 41, b"INC-1", value)


def test_a_json_line_is_the_published_event() -> None:
    line = as_json_line(record(json.dumps(EVENT).encode()))
    assert "\n" not in line and json.loads(line) == EVENT


def test_the_readable_form_shows_time_type_key_subject_and_each_data_field() -> None:
    text = as_text(record(json.dumps(EVENT).encode())).splitlines()
    assert text[0] == (
        "2024-05-13T12:00:00Z  cdi.victim.referral_due  key=INC-1  subject=INC-1  [2:41]"
    )
    assert "    referral_due_by  2024-05-15T17:00:00+01:00" in text
    assert "    late             false" in text
    assert any("dataschema: urn:cdi-monitor:schemas:" in line for line in text)


def test_a_value_that_is_not_json_is_shown_in_base64_rather_than_dropped() -> None:
    assert json.loads(as_json_line(record(b"\xffnope"))) == {"undecodable_value_base64": "/25vcGU="}
    assert "(not a CloudEvent)" in as_text(record(None))
