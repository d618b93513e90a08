"""No victim detail outside the referral topic: not in dead letters, logs or /health.

A distinctive victim reference is planted in malformed inputs of every kind the
worker reads (its input topics, its own links and ledger topics) and in the
errors it meets; it must appear in no dead letter, no log record and not on
``/health``. ``tests/integration/test_no_victim_detail.py`` does the same
against a running worker and board.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from monitor.adapters.safe_errors import database_error, describe, validation_summary
from monitor.adapters.wire.inbound import Rejected
from monitor.adapters.wire.outbound import encode_dead_letter
from monitor.adapters.wire.redaction import REDACTED, dead_letter_copy
from schemas.crimes import CrimeEvent
from schemas.dead_letters import RejectionKind, ValueRedaction
from tests.support import events as ev
from tests.support.harness import Harness, harness

NOW = datetime.now(UTC).replace(microsecond=0)


def raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


PLANTED = "V-PLANTED-7Q4Z9"  # a victim reference no other text contains


def no_trace_of_the_victim(*texts: str | bytes) -> None:
    for text in texts:
        as_text = text.decode(errors="replace") if isinstance(text, bytes) else text
        assert PLANTED not in as_text
        assert base64.b64encode(PLANTED.encode()).decode()[:12] not in as_text


def dead_letters(h: Harness) -> list[dict[str, Any]]:
    return [s.json["data"] for s in h.on(h.topology.dead_letters)]


def copied(letter: dict[str, Any]) -> bytes:
    return base64.b64decode(letter["value_base64"])


def crime_with_victim(**changes: Any) -> dict[str, Any]:
    event = ev.recorded("CR-1", ["INC-1"], NOW, victim_ref=PLANTED)
    event["data"].update(changes)
    return event


# --- what a dead letter keeps of the value ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "redaction"),
    [
        (raw(crime_with_victim(recorded_at="2024-05-01T10:00:00")), ValueRedaction.VICTIM_FIELDS),
        (raw({"data": {"deep": [{"victimName": PLANTED}]}}), ValueRedaction.VICTIM_FIELDS),
        (raw({"victim": {"victim_ref": PLANTED, "consents": True}}), ValueRedaction.VICTIM_FIELDS),
        (json.dumps(json.dumps(crime_with_victim())).encode(), ValueRedaction.VICTIM_FIELDS),
        (raw(crime_with_victim())[:-30], ValueRedaction.VICTIM_FIELDS),  # truncated: not JSON
        (b"{'victim_ref': '" + PLANTED.encode() + b"', 'x': 1}", ValueRedaction.VICTIM_FIELDS),
        (b'{"x": 1, "victim": {"ref": "' + PLANTED.encode() + b'"', ValueRedaction.WITHHELD),
        (b'{"victim\\u005fref": "' + PLANTED.encode() + b'",', ValueRedaction.WITHHELD),
        (
            b"[" * 15_000 + b'{"victim_ref": "' + PLANTED.encode() + b'"}',
            ValueRedaction.VICTIM_FIELDS,
        ),
    ],
    ids=[
        "invalid crime record",
        "any depth, any case",
        "a victim object",
        "an event encoded twice",
        "truncated JSON",
        "a Python repr",
        "truncated nested object",
        "escaped key",
        "nested too deep for the parser",
    ],
)
def test_a_dead_letter_copies_the_value_without_the_victim(
    value: bytes, redaction: ValueRedaction
) -> None:
    copy, how = dead_letter_copy(value)
    assert how is redaction
    no_trace_of_the_victim(copy)
    if redaction is ValueRedaction.VICTIM_FIELDS:
        assert REDACTED.encode() in copy
    else:
        assert copy == b""


def test_a_value_without_victim_fields_is_copied_byte_for_byte() -> None:
    for value in (b"not json", b"[1, 2, 3]", raw(ev.reported("INC-1", NOW)), b"\xff\xfe"):
        assert dead_letter_copy(value) == (value, ValueRedaction.NONE)


def test_the_redacted_copy_of_json_is_the_same_document_but_for_the_victim() -> None:
    event = crime_with_victim(recorded_at="no offset")
    copy, _ = dead_letter_copy(raw(event))
    victim_fields = [name for name in event["data"] if name.startswith("victim_")]
    assert "victim_ref" in victim_fields and "victim_consents_to_referral" in victim_fields
    event["data"].update(dict.fromkeys(victim_fields, REDACTED))
    assert json.loads(copy) == event


def test_the_operator_may_ask_for_byte_for_byte_copies() -> None:
    value = raw(crime_with_victim(recorded_at="no offset"))
    assert dead_letter_copy(value, raw_copy=True) == (value, ValueRedaction.NONE)


def test_the_dead_letter_says_how_its_copy_was_redacted() -> None:
    value = raw(crime_with_victim(recorded_at="no offset"))
    out = encode_dead_letter(
        Rejected(RejectionKind.INVALID, "invalid"),
        source="s",
        topic="crime-records",
        partition=0,
        offset=1,
        timestamp=None,
        key=b"INC-1",
        value=value,
        received_at=NOW,
    )
    no_trace_of_the_victim(out.value)
    data = json.loads(out.value)["data"]
    assert data["value_redaction"] == "victim_fields"
    assert data["value_size_bytes"] == len(value) and data["value_truncated"] is False


# --- error texts ---------------------------------------------------------------------------


def test_validation_errors_are_told_without_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        bad = crime_with_victim(victim_ref=f"{PLANTED} with spaces")
        TypeAdapter(CrimeEvent).validate_json(raw(bad))
    assert PLANTED in str(caught.value)  # pydantic's own text quotes the input
    summary = validation_summary(caught.value)
    no_trace_of_the_victim(summary, describe(caught.value))
    assert "victim_ref" in summary


def test_an_unexpected_exception_is_told_by_its_class() -> None:
    assert describe(KeyError(PLANTED)) == "KeyError"
    assert describe(Rejected(RejectionKind.INVALID, "a reason")) == "a reason"


def test_health_shows_the_class_of_a_database_error_not_its_text() -> None:
    from sqlalchemy.exc import IntegrityError

    class UniqueViolation(Exception):
        pgcode = "23505"

    error = IntegrityError("INSERT ...", {"victim_ref": PLANTED}, UniqueViolation(PLANTED))
    assert PLANTED in str(error)
    shown = database_error(error)
    no_trace_of_the_victim(shown)
    assert shown.startswith("IntegrityError") and "23505" in shown


# --- the worker ----------------------------------------------------------------------------


def a_link_with_the_victim(**changes: Any) -> bytes:
    """A crime link as earlier versions wrote it, one a message (still read)."""
    message: dict[str, Any] = {
        "kind": "link",
        "event_id": "e-1",
        "incident_id": "INC-1",
        "crime_id": "CR-1",
        "recorded_at": ev.stamp(NOW),
        "victim": {
            "crime_id": "CR-1",
            "event_id": "e-1",
            "recorded_at": ev.stamp(NOW),
            "offence_code": "8N",
            "offence_group": "violence_against_the_person",
            "victim_ref": PLANTED,
            "consents": True,
        },
    }
    message.update(changes)
    return json.dumps(message).encode()


async def test_a_malformed_crime_record_leaves_no_victim_detail(caplog: Any) -> None:
    h = harness()
    caplog.set_level(logging.DEBUG)
    crimes = h.topology.crime_records
    await h.batch(
        h.message(crimes, raw(crime_with_victim(recorded_at="2024-05-01T10:00:00")), b"INC-1"),
        h.message(crimes, raw(crime_with_victim(victim_ref=f"{PLANTED} with spaces")), b"INC-1"),
        h.message(crimes, raw(crime_with_victim())[:-30], b"INC-1"),
    )
    letters = dead_letters(h)
    assert len(letters) == 3
    no_trace_of_the_victim(*(json.dumps(d) for d in letters), *(copied(d) for d in letters))
    no_trace_of_the_victim(caplog.text)


async def test_a_malformed_links_message_leaves_no_victim_detail(caplog: Any) -> None:
    h = harness()
    caplog.set_level(logging.DEBUG)
    links = h.topology.links
    await h.batch(
        h.message(links, a_link_with_the_victim(recorded_at="not a time"), b"INC-1"),
        h.message(links, a_link_with_the_victim(victim={"victim_ref": PLANTED}), b"INC-1"),
    )
    letters = dead_letters(h)
    assert [d["kind"] for d in letters] == ["invalid", "invalid"]
    assert "recorded_at" in letters[0]["reason"]
    assert all(d["value_redaction"] == "victim_fields" for d in letters)
    no_trace_of_the_victim(*(json.dumps(d) for d in letters), *(copied(d) for d in letters))
    assert "unreadable message" in caplog.text
    no_trace_of_the_victim(caplog.text)


def a_ledger_crime(victim_ref: str, **changes: Any) -> bytes:
    crime = ev.recorded("CR-L", ["INC-L"], NOW, victim_ref=victim_ref)["data"]
    crime.update(changes)
    return json.dumps({"kind": "batch", "recorded": [{"event_id": "e-l", **crime}]}).encode()


async def test_a_bad_ledger_message_is_dead_lettered_and_the_writer_carries_on(
    caplog: Any,
) -> None:
    h = harness()
    caplog.set_level(logging.DEBUG)
    ledger = h.topology.ledger
    cut = b'{"kind": "batch", "recorded": [{"victim_ref": "' + PLANTED.encode()
    await h.monitor.sink.write(
        [
            h.message(ledger, a_ledger_crime(PLANTED, recorded_at=12)).message,
            h.message(ledger, cut).message,
            h.message(ledger, a_ledger_crime("V-OK")).message,
        ]
    )
    letters = dead_letters(h)
    assert [d["source_topic"] for d in letters] == [ledger] * 2
    assert letters[0]["kind"] == "invalid" and "recorded_at" in letters[0]["reason"]
    assert letters[1]["kind"] == "invalid" and letters[1]["value_redaction"] == "victim_fields"
    no_trace_of_the_victim(*(json.dumps(d) for d in letters), *(copied(d) for d in letters))
    no_trace_of_the_victim(caplog.text)
    assert h.ledger.crime("CR-L") is not None


async def test_an_internal_error_is_dead_lettered_and_logged_without_its_text(
    caplog: Any,
) -> None:
    h = harness()
    caplog.set_level(logging.DEBUG)

    def broken(message: Any, batch: Any) -> None:
        raise ValueError(f"cannot handle {PLANTED}")

    h.monitor.clock_handler._handle = broken  # type: ignore[method-assign]
    await h.batch(h.message(h.topology.incidents, raw(ev.reported("INC-1", NOW)), b"INC-1"))
    (letter,) = dead_letters(h)
    assert (letter["kind"], letter["reason"]) == ("internal_error", "ValueError")
    assert "failed to process" in caplog.text and "in broken" in caplog.text
    no_trace_of_the_victim(json.dumps(letter), caplog.text)


class FailingWriter:
    async def write(self, values: Any) -> Any:
        raise RuntimeError(f"row for {PLANTED} rejected")

    def close(self) -> None:
        return None


async def test_the_ledger_health_shows_the_error_class_only(caplog: Any) -> None:
    h = harness()
    caplog.set_level(logging.DEBUG)
    sink = h.monitor.sink
    sink.writer = FailingWriter()
    task = asyncio.create_task(sink.write([]))
    await asyncio.sleep(0.05)
    task.cancel()
    _, health = h.monitor.health()
    assert health["ledger"]["status"] == "degraded"
    assert health["ledger"]["last_error"] == "RuntimeError"
    no_trace_of_the_victim(json.dumps(health), caplog.text)


def test_database_errors_never_quote_the_values_of_a_statement(tmp_path: Any) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from monitor.adapters.sql.ledger import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (ref TEXT PRIMARY KEY)"))
        c.execute(text("INSERT INTO t VALUES (:ref)"), {"ref": PLANTED})
    with pytest.raises(IntegrityError) as caught, engine.begin() as c:
        c.execute(text("INSERT INTO t VALUES (:ref)"), {"ref": PLANTED})
    no_trace_of_the_victim(str(caught.value))
    engine.dispose()
