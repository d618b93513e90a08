"""The worker's own records (links, ledger, table) in their compact form, and the older forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.adapters.state_codec import decode_state, encode, encode_state
from monitor.adapters.wire.internal_messages import (
    MAX_RECORD_BYTES,
    DecodeError,
    LedgerBatch,
    LinksBatch,
    Watermark,
    decode_ledger,
    decode_links,
    encode_ledger,
    encode_links,
    encode_watermark,
)
from monitor.domain.incident import Announced, IncidentState, Report
from monitor.domain.inputs import CrimeCancelled, CrimeLinked, CrimeRecorded, CrimeVictim

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def state(incident_id: str = "INC-1", **changes: object) -> IncidentState:
    report = Report("e1", "leicestershire", T, "999", "violence", True, division="city")
    return IncidentState(incident_id, report=report, **changes)  # type: ignore[arg-type]


def test_a_state_leaves_out_every_field_at_its_default() -> None:
    assert encode_state(state()) == (
        b'{"incident_id":"INC-1","report":{"event_id":"e1","force":"leicestershire",'
        b'"reported_at":"2026-03-01T09:30:00Z","channel":"999","category":"violence",'
        b'"crime_related":true,"division":"city"}}'
    )


def test_a_state_round_trips_with_its_sets_sorted_and_its_offsets_kept() -> None:
    local = datetime(2026, 7, 1, 17, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/London")
    )
    victim = CrimeVictim("CR-1", "e2", local, "8N", "violence", "V-1", consents=True)
    rich = state(
        announced=Announced(due_soon=True, referred=frozenset({"CR-2", "CR-1"})),
        victims=(victim,),
        last_event_at=T + timedelta(microseconds=1500),
    )
    raw = encode_state(rich)
    assert b'"referred":["CR-1","CR-2"]' in raw
    assert b'"recorded_at":"2026-07-01T18:00:00+01:00"' in raw
    assert b'"last_event_at":"2026-03-01T09:30:00.001500Z"' in raw
    decoded = decode_state(raw)
    assert decoded == rich


def test_a_state_saved_with_the_message_that_changed_it_still_reads() -> None:
    """Earlier versions stored ``trigger`` (and a version) with each state."""
    old = encode_state(state())[:-1] + b',"v":1,"trigger":["t-links",12]}'
    assert decode_state(old) == state()


def test_links_and_misrouted_incidents_for_one_partition_travel_as_one_record() -> None:
    victim = CrimeVictim("CR-1", "e2", T, "8N", "violence", "V-1")
    links = [CrimeLinked("e2", "INC-1", "CR-1", T, victim), CrimeLinked("e3", "INC-2", "CR-2", T)]
    (record,) = encode_links(links, [b'{"type": "cdi.incident.reported"}'])
    assert decode_links(record) == LinksBatch(
        links=links, incidents=['{"type": "cdi.incident.reported"}']
    )


def test_records_are_split_before_they_grow_past_the_limit() -> None:
    many = [CrimeLinked(f"e{i}", f"INC-{i}", f"CR-{i}", T) for i in range(5000)]
    records = list(encode_links(many, []))
    assert len(records) > 1 and all(len(r) <= MAX_RECORD_BYTES + 200 for r in records)
    assert [link for r in records for link in decode_links(r).links] == many  # type: ignore[union-attr]


def test_a_ledger_record_holds_the_states_as_encoded_and_the_crime_events() -> None:
    recorded = CrimeRecorded("e4", "CR-1", ("INC-1",), T, "8N", "violence", victim_ref="V-1")
    cancelled = CrimeCancelled("e5", "CR-1", T, "recorded_in_error")
    (record,) = encode_ledger([encode_state(state())], [recorded], [cancelled])
    assert encode_state(state()) in record
    assert decode_ledger(record) == LedgerBatch([state()], [recorded], [cancelled])


def test_the_watermark_tick_reads_back() -> None:
    assert decode_links(encode_watermark(2, [(0, T), (1, T)])) == Watermark(2, [(0, T), (1, T)])


def test_ledger_messages_written_one_per_change_by_an_earlier_version_are_read() -> None:
    incident = b'{"kind":"incident","state":' + encode_state(state()) + b"}"
    recorded = (
        b'{"kind":"crime_recorded","event_id":"e4","crime":{"crime_id":"CR-1",'
        b'"incident_ids":["INC-1"],"recorded_at":"2026-03-01T09:30:00Z","offence_code":"8N",'
        b'"offence_group":"violence","victim_ref":null,"victim_consents_to_referral":null,'
        b'"domestic_abuse":null,"victim_bereaved_relative":null}}'
    )
    cancelled = (
        b'{"kind":"crime_cancelled","event_id":"e5","cancellation":{"crime_id":"CR-1",'
        b'"cancelled_at":"2026-03-01T09:30:00Z","reason":"recorded_in_error"}}'
    )
    assert decode_ledger(incident).incidents == [state()]
    assert decode_ledger(recorded).recorded == [
        CrimeRecorded("e4", "CR-1", ("INC-1",), T, "8N", "violence")
    ]
    assert decode_ledger(cancelled).cancelled == [
        CrimeCancelled("e5", "CR-1", T, "recorded_in_error")
    ]


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1]", b'{"kind":"other"}', b'{"kind":"batch","incidents":[{"x":1}]}'],
)
def test_anything_else_is_refused_with_a_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_ledger(raw)
    with pytest.raises(DecodeError):
        decode_links(raw)


def test_a_refusal_names_the_field_and_never_its_value() -> None:
    bad = b'{"kind":"batch","recorded":[{"event_id":"e","victim_ref":12345678}]}'
    with pytest.raises(DecodeError) as info:
        decode_ledger(bad)
    assert "12345678" not in str(info.value)


def test_a_domain_value_it_cannot_encode_is_refused() -> None:
    with pytest.raises(TypeError):
        encode(object())
