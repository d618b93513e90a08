"""Announcements on the wire: valid against the published models, identical on every replay."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from monitor.adapters.wire.inbound import Rejected
from monitor.adapters.wire.outbound import Stream, encode_dead_letter, encode_fact
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import ClosingCode
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import advance
from schemas.common import Timestamp
from schemas.dead_letters import RejectionKind
from schemas.export import OUTPUTS
from tests.unit.builders import T0, H, closed, recorded, reported

POLICY = TimelinessPolicy()


def facts_of(*events):
    state = IncidentState("INC-1")
    for e in events:
        state = apply(state, e)
    _, facts = advance(state, now=T0 + 100 * H, policy=POLICY)
    return facts


ALL_FACTS = [
    *facts_of(reported(), recorded(T0 + 30 * H)),  # measured, due soon, overdue, resolved
    *facts_of(reported(), closed(T0 + 2 * H, ClosingCode.DUPLICATE)),  # closed without crime
]


@pytest.mark.parametrize("fact", ALL_FACTS, ids=lambda f: type(f).__name__)
def test_every_announcement_validates_against_the_model_of_its_type(fact) -> None:
    out = encode_fact(fact, source="urn:cdi-monitor")
    event = json.loads(out.value)
    OUTPUTS[event["type"]].model_validate_json(out.value, strict=False)
    assert event["subject"] == out.key == "INC-1"
    assert event["dataschema"] == f"urn:cdi-monitor:schemas:{event['type']}.schema.json"
    assert None not in event.values()  # absent optional attributes are left out, not null


def test_the_same_fact_encodes_to_the_same_bytes_and_id() -> None:
    again = [*facts_of(reported(), recorded(T0 + 30 * H))]
    assert [encode_fact(f, source="s").value for f in again] == [
        encode_fact(f, source="s").value for f in ALL_FACTS[:4]
    ]
    ids = {json.loads(encode_fact(f, source="s").value)["id"] for f in ALL_FACTS}
    assert len(ids) == len(ALL_FACTS)


def test_an_announcement_is_stamped_with_the_event_time_of_its_fact() -> None:
    measured, due, over, resolved = (
        json.loads(encode_fact(f, source="s").value) for f in ALL_FACTS[:4]
    )
    assert measured["time"] == "2024-05-02T15:00:00Z"  # recorded at
    assert due["time"] == "2024-05-02T05:00:00Z"  # four hours before the deadline
    assert over["time"] == "2024-05-02T09:00:00Z"  # the deadline
    assert resolved["data"]["late"] is True and resolved["time"] == measured["time"]


def test_alerts_go_to_the_alerts_topic_and_outcomes_to_the_outcomes_topic() -> None:
    streams = [encode_fact(f, source="s").stream for f in ALL_FACTS]
    assert streams == [
        Stream.OUTCOMES,
        Stream.ALERTS,
        Stream.ALERTS,
        Stream.ALERTS,
        Stream.OUTCOMES,
    ]


def test_a_dead_letter_keeps_the_original_bytes_and_where_they_came_from() -> None:
    original = b"\x00\xffnot json"
    out = encode_dead_letter(
        Rejected(RejectionKind.NOT_JSON, "the value is not valid JSON"),
        source="s",
        topic="incidents",
        partition=3,
        offset=42,
        timestamp=1714555800.5,
        key=b"INC-1",
        value=original,
        received_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    event = TypeAdapter(OUTPUTS["cdi.input.rejected"]).validate_json(out.value)
    assert base64.b64decode(event.data.value_base64) == original
    assert (event.data.source_topic, event.data.source_partition, event.data.source_offset) == (
        "incidents",
        3,
        42,
    )
    assert event.data.reason == "the value is not valid JSON"


def test_every_output_names_its_schema_under_the_configured_base() -> None:
    base = "https://intranet.example/cdi/schemas/"
    for fact in ALL_FACTS:
        event = json.loads(encode_fact(fact, source="s", schema_base=base).value)
        assert event["dataschema"] == f"{base}{event['type']}.schema.json"
    dead = encode_dead_letter(
        Rejected(RejectionKind.NOT_JSON, "not JSON"),
        source="s",
        topic="incidents",
        partition=0,
        offset=1,
        timestamp=None,
        key=None,
        value=b"x",
        received_at=datetime(2024, 5, 1, tzinfo=UTC),
        schema_base=base,
    )
    event = json.loads(dead.value)
    assert event["dataschema"] == f"{base}cdi.input.rejected.schema.json"
    assert event["subject"] == "incidents/0/1"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 5, 1, 9, 30, tzinfo=UTC), "2024-05-01T09:30:00Z"),
        (datetime(2024, 5, 1, 9, 30, 0, 120000, tzinfo=UTC), "2024-05-01T09:30:00.120000Z"),
        (datetime(2024, 5, 1, 9, 30, 0, 1, tzinfo=UTC), "2024-05-01T09:30:00.000001Z"),
        (datetime(2024, 5, 15, 17, tzinfo=ZoneInfo("Europe/London")), "2024-05-15T17:00:00+01:00"),
        (datetime(2026, 12, 30, 17, tzinfo=ZoneInfo("Europe/London")), "2026-12-30T17:00:00Z"),
        (datetime(1900, 1, 1, tzinfo=UTC), "1900-01-01T00:00:00Z"),
        (datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
         "2024-05-01T09:30:00-05:30"),
    ],
)  # fmt: skip
def test_a_timestamp_is_written_as_rfc_3339_with_z_for_utc(moment: datetime, text: str) -> None:
    assert TypeAdapter(Timestamp).dump_json(moment).decode() == f'"{text}"'
    assert TypeAdapter(Timestamp).dump_python(moment, mode="json") == text
