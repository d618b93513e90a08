"""Property tests: whatever upstream sends, each input is accepted or dead-lettered with a reason.

The decoder is given random bytes, truncated and deeply nested JSON, fields
of the wrong type or missing, unknown event types, timestamps without an
offset or out of range, strings of megabytes, unicode identifiers and events
dated far in the future. The clock's handler (as in ``test_clock_handler.py``)
is given the same inputs between two valid events, in one batch: the
bad one is dead-lettered, never an internal error, and the valid ones around
it are still processed.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.adapters.wire.inbound import Rejected, decode_crime_event, decode_incident_event
from monitor.adapters.wire.internal_messages import decode_ledger
from monitor.domain.inputs import CrimeCancelled, CrimeRecorded
from schemas.dead_letters import RejectionKind
from tests.support import events as ev
from tests.support.harness import Harness, harness

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
LIMIT = 256 * 1024
MEGABYTE = 1024 * 1024
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AGENT_FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- what upstream might send -------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=80),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
naive_or_odd_times = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),  # no offset
    st.datetimes(timezones=st.just(UTC)).map(ev.stamp),  # years 1 to 9999
    st.sampled_from(
        [
            "2024-05-01T09:30:00",
            "2024-05-01 09:30:00Z",
            "2024-02-30T09:30:00Z",
            "2024-05-01T24:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "2999-12-31T23:59:59Z",
            "2024-05-01T09:30:00.1234567890123Z",
            "2024-05-01T09:30:00+25:00",
            "",
        ]
    ),
    st.integers(),
)
identifiers = st.one_of(
    st.text(min_size=0, max_size=100),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=64),
    st.sampled_from(["INC-Ünïcødé-✓", "事件-1", "🚓" * 64, "🚓" * 65, "a\u202eb", "x" * 65]),
)


def valid_incident_events(moment: datetime = AT) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(["reported", "updated", "closed"]).map(
        lambda kind: {
            "reported": ev.reported("INC-1", moment),
            "updated": ev.updated("INC-1", moment, crime_related=True),
            "closed": ev.closed("INC-1", moment),
        }[kind]
    )


def valid_crime_events() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from([ev.recorded("CR-1", ["INC-1", "INC-2"], AT), ev.cancelled("CR-1", AT)])


@st.composite
def mutated(draw: st.DrawFn, events: st.SearchStrategy[dict[str, Any]]) -> bytes:
    """A valid event with one thing wrong (or, sometimes, nothing wrong)."""
    event = json.loads(json.dumps(draw(events)))
    data = event["data"]
    where = draw(st.sampled_from(["envelope", "data"]))
    target = event if where == "envelope" else data
    name = draw(st.sampled_from(sorted(target)))
    change = draw(
        st.sampled_from(
            ["wrong_type", "missing", "time", "identifier", "unknown_type", "megabyte", "future"]
        )
    )
    if change == "wrong_type":
        target[name] = draw(json_values)
    elif change == "missing":
        del target[name]
    elif change == "time":
        key = next((k for k in target if k.endswith("_at") or k == "time"), name)
        target[key] = draw(naive_or_odd_times)
    elif change == "identifier":
        key = next((k for k in ("incident_id", "crime_id", "id") if k in target), name)
        target[key] = draw(identifiers)
    elif change == "unknown_type":
        event["type"] = draw(st.text(max_size=40) | st.sampled_from(["cdi.incident.deleted"]))
    elif change == "megabyte":
        target[name] = "x" * draw(st.integers(MEGABYTE, 2 * MEGABYTE))
    else:
        far = ev.stamp(AT.replace(year=draw(st.integers(2100, 2999))))
        for key in [k for k in data if k.endswith("_at")]:
            data[key] = far
        event["time"] = far
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def truncated(draw: st.DrawFn, events: st.SearchStrategy[dict[str, Any]]) -> bytes:
    whole = json.dumps(draw(events)).encode()
    return whole[: draw(st.integers(0, len(whole) - 1))]


@st.composite
def deeply_nested(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(1, 20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inner = opener * depth + "1" + closer * depth
    if draw(st.booleans()):
        event = ev.reported("INC-1", AT)
        return json.dumps(event).replace('"grade": "2"', f'"grade": {inner}').encode()
    return inner.encode()


def anything(events: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2000),
        truncated(events),
        deeply_nested(),
        mutated(events),
        json_values.map(lambda v: json.dumps(v).encode()),
    )


# --- the decoder --------------------------------------------------------------------------


def decoded_or_rejected(decode: Any, value: bytes, max_bytes: int = LIMIT) -> object:
    try:
        return decode(value, max_bytes=max_bytes)
    except Rejected as rejected:
        assert rejected.kind in set(RejectionKind) - {RejectionKind.INTERNAL_ERROR}
        assert rejected.reason.strip()
        assert len(rejected.reason) < 4000, "a reason must stay readable"
        assert len(rejected.errors) <= 20
        return rejected


# Under the default cap, and under a cap raised above the megabyte strings so they are parsed.
caps = st.sampled_from([LIMIT, 4 * MEGABYTE])


@FUZZ
@given(anything(valid_incident_events()), caps)
def test_every_incident_input_is_decoded_or_refused_with_a_reason(value: bytes, cap: int) -> None:
    outcome = decoded_or_rejected(decode_incident_event, value, cap)
    if not isinstance(outcome, Rejected):
        # What is accepted honours the identifier rules.
        incident_id = outcome.incident_id  # type: ignore[attr-defined]
        assert 1 <= len(incident_id) <= 64
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in incident_id)
        incident_id.encode()  # becomes a Kafka key: must be encodable


@FUZZ
@given(anything(valid_crime_events()), caps)
def test_every_crime_input_is_decoded_or_refused_with_a_reason(value: bytes, cap: int) -> None:
    outcome = decoded_or_rejected(decode_crime_event, value, cap)
    if isinstance(outcome, CrimeRecorded | CrimeCancelled):
        assert 1 <= len(outcome.crime_id) <= 64
        outcome.crime_id.encode()


@FUZZ
@given(identifiers)
def test_an_identifier_is_accepted_exactly_when_it_is_1_to_64_printable_characters(
    identifier: str,
) -> None:
    event = ev.reported("INC-1", AT)
    event["data"]["incident_id"] = identifier
    outcome = decoded_or_rejected(decode_incident_event, json.dumps(event).encode())
    control = any(ord(c) < 0x20 or ord(c) == 0x7F for c in identifier)
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in identifier)
    acceptable = 1 <= len(identifier) <= 64 and not control and not surrogate
    assert isinstance(outcome, Rejected) != acceptable, (identifier, outcome)
    if isinstance(outcome, Rejected):
        assert outcome.kind in (RejectionKind.INVALID, RejectionKind.NOT_JSON)
        if len(identifier) > 64 and not surrogate:
            assert "at most 64 characters" in outcome.reason


@FUZZ
@given(st.integers(LIMIT + 1, 3 * MEGABYTE))
def test_a_message_over_the_size_cap_is_refused_before_it_is_parsed(size: int) -> None:
    outcome = decoded_or_rejected(decode_incident_event, b"{" * size)
    assert isinstance(outcome, Rejected) and outcome.kind is RejectionKind.TOO_LARGE
    assert f"{size} bytes, more than the {LIMIT}-byte limit" in outcome.reason


def test_a_megabyte_identifier_under_a_raised_size_cap_is_refused_for_its_length() -> None:
    event = ev.reported("x" * MEGABYTE, AT)
    outcome = decoded_or_rejected(
        decode_incident_event, json.dumps(event).encode(), max_bytes=4 * MEGABYTE
    )
    assert isinstance(outcome, Rejected) and outcome.kind is RejectionKind.INVALID
    assert "data.incident_id: String should have at most 64 characters" in outcome.reason


@FUZZ
@given(st.integers(2030, 2999), st.integers(0, 364))
def test_an_event_dated_far_in_the_future_is_accepted_as_stated(year: int, day: int) -> None:
    moment = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=day)
    outcome = decoded_or_rejected(decode_incident_event, raw(ev.reported("INC-1", moment)))
    assert not isinstance(outcome, Rejected) and outcome.reported_at == moment  # type: ignore[attr-defined]


# --- the agents ---------------------------------------------------------------------------


def raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


async def run_between_valid_events(topic: str, bad: bytes) -> Harness:
    """A valid event, the input under test, another valid event, as one batch."""
    h = harness()
    if topic == "incidents":
        before = raw(ev.reported("INC-BEFORE", AT))
        after = raw(ev.reported("INC-AFTER", AT))
    else:
        before = raw(ev.recorded("CR-BEFORE", ["INC-BEFORE"], AT))
        after = raw(ev.recorded("CR-AFTER", ["INC-AFTER"], AT))
    name = h.topology.incidents if topic == "incidents" else h.topology.crime_records
    await h.batch(
        h.message(name, before, b"INC-BEFORE"),
        h.message(name, bad, b"INC-1"),
        h.message(name, after, b"INC-AFTER"),
    )
    return h


def ledger_incidents(h: Harness) -> set[str]:
    return {
        state.incident_id
        for record in h.on(h.topology.ledger)
        for state in decode_ledger(record.value or b"").incidents
    }


def assert_bad_input_handled(h: Harness, bad: bytes) -> None:
    letters = [s.json["data"] for s in h.on(h.topology.dead_letters)]
    assert len(letters) <= 1
    for letter in letters:
        assert letter["kind"] != "internal_error", letter["reason"]
        assert letter["reason"]


@AGENT_FUZZ
@given(anything(valid_incident_events()))
async def test_the_clock_agent_dead_letters_bad_input_and_processes_the_events_around_it(
    bad: bytes,
) -> None:
    h = await run_between_valid_events("incidents", bad)
    assert_bad_input_handled(h, bad)
    assert {"INC-BEFORE", "INC-AFTER"} <= ledger_incidents(h)


@AGENT_FUZZ
@given(anything(valid_crime_events()))
async def test_the_clock_dead_letters_a_bad_crime_record_and_applies_the_crimes_around_it(
    bad: bytes,
) -> None:
    h = await run_between_valid_events("crime-records", bad)
    assert_bad_input_handled(h, bad)
    for incident_id in ("INC-BEFORE", "INC-AFTER"):
        assert (h.state(incident_id) or {}).get("recording"), incident_id


async def test_the_dead_letter_of_a_message_near_kafkas_limit_still_fits_in_one_message() -> None:
    """A 1 MB input copied whole into a dead letter (base64: 1.33 MB) could not be published."""
    huge = b'{"id": "' + b"x" * (MEGABYTE - 100) + b'"}'
    h = await run_between_valid_events("incidents", huge)
    (letter,) = h.on(h.topology.dead_letters)
    assert len(letter.value) < 1_000_000  # Faust's and Kafka's default maximum message size
    data = letter.json["data"]
    assert data["kind"] == "too_large" and data["value_truncated"] is True
    assert data["value_size_bytes"] == len(huge)
    assert base64.b64decode(data["value_base64"]) == huge[: 512 * 1024]
    assert {"INC-BEFORE", "INC-AFTER"} <= ledger_incidents(h)


async def test_a_small_rejected_value_is_copied_whole() -> None:
    h = await run_between_valid_events("incidents", b"not json")
    (letter,) = h.on(h.topology.dead_letters)
    data = letter.json["data"]
    assert base64.b64decode(data["value_base64"]) == b"not json"
    assert data["value_truncated"] is False and data["value_size_bytes"] == 8
