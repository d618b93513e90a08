"""The ledger writer: messages to rows in any order, retried while the database is away."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.adapters.sql.ledger import SqlLedger, make_engine
from monitor.adapters.sql.ledger_writer import (
    LedgerWriteFailed,
    ProcessLedgerWriter,
    ThreadLedgerWriter,
    rows_of,
)
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.state_codec import encode_state
from monitor.adapters.wire.internal_messages import encode_ledger
from monitor.application.ledger import InMemoryLedger
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import (
    ClosingCode,
    CrimeLinked,
    CrimeRecorded,
    IncidentClosed,
    IncidentReported,
)
from monitor.domain.policy import TimelinessPolicy
from monitor.settings import Settings
from tests.support.harness import harness

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = TimelinessPolicy()


def states() -> list[IncidentState]:
    """One incident's states as it was reported, recorded and closed."""
    events = [
        IncidentReported("e1", "INC-1", "leicestershire", T, "999", "violence", True),
        CrimeLinked("e2", "INC-1", "CR-1", T + H),
        IncidentClosed("e3", "INC-1", T + 2 * H, ClosingCode.CRIME_RECORDED),
    ]
    out, state = [], IncidentState("INC-1")
    for event in events:
        state = apply(state, event)
        out.append(state)
    return out


def record(state: IncidentState) -> bytes:
    (raw,) = encode_ledger([encode_state(state)], [], [])
    return raw


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_states_in_any_order_give_the_row_of_the_latest(order: tuple[int, ...]) -> None:
    all_states = states()
    batch, written = rows_of([record(all_states[i]) for i in order], POLICY)
    (row,) = batch.incidents
    assert row.first_crime_id == "CR-1" and row.closing_code == "crime_recorded"
    assert row.state == all_states[-1]
    assert written.rows == 1 and not written.unreadable


def test_an_unreadable_message_is_reported_and_the_rest_written() -> None:
    crime = CrimeRecorded("e4", "CR-1", ("INC-1",), T + H, "8N", "violence")
    (good,) = encode_ledger([], [crime], [])
    batch, written = rows_of([b'{"kind":"batch","incidents":[{"report":7}]}', good], POLICY)
    assert [c.crime_id for c in batch.crimes] == ["CR-1"]
    ((index, reason),) = written.unreadable
    assert index == 0 and "$.incidents[0]" in reason


async def test_the_thread_writer_writes_the_rows() -> None:
    ledger = InMemoryLedger()
    written = await ThreadLedgerWriter(ledger, POLICY).write([record(states()[-1])])
    assert written.rows == 1 and ledger.incident("INC-1") is not None


async def test_the_process_writer_writes_in_a_process_of_its_own(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    writer = ProcessLedgerWriter(Settings(database_url=url))
    try:
        written = await writer.write([record(states()[-1])])
    finally:
        writer.close()
    assert written.rows == 1
    row = SqlLedger(make_engine(url)).incident("INC-1")
    assert row is not None and row.closing_code == "crime_recorded"


async def test_a_database_error_in_the_process_comes_back_as_its_class(tmp_path: Path) -> None:
    writer = ProcessLedgerWriter(Settings(database_url=f"sqlite:///{tmp_path / 'no' / 'l.db'}"))
    try:
        with pytest.raises(LedgerWriteFailed) as info:
            await writer.write([record(states()[-1])])
    finally:
        writer.close()
    assert info.value.error == "OperationalError"


class FlakyWriter:
    """Fails ``failures`` times, then writes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def write(self, values: list[bytes]):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls <= self.failures:
            raise LedgerWriteFailed("OperationalError", 'could not connect to "ledger-db"')
        return await ThreadLedgerWriter(InMemoryLedger(), POLICY).write(values)

    def close(self) -> None:
        return None


async def test_the_sink_retries_until_the_database_takes_the_batch_and_says_so_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = harness()
    sink = h.monitor.sink
    sink.writer = FlakyWriter(failures=2)
    seen: list[tuple[object, object]] = []

    async def no_wait(delay: float) -> None:
        seen.append((sink.degraded_since is not None, sink.last_error))

    monkeypatch.setattr("streams.ledger_sink.asyncio.sleep", no_wait)
    await sink.write([h.message(h.topology.ledger, record(states()[-1])).message])
    assert seen == [(True, "OperationalError"), (True, "OperationalError")]
    assert sink.degraded_since is None and sink.last_error is None
    assert h.monitor.metrics.ledger_errors._value.get() == 2


async def test_the_sink_dead_letters_a_message_it_cannot_read() -> None:
    h = harness()
    bad = b'{"kind":"batch","recorded":[{"victim_ref":"V-SECRET"}]}'
    await h.monitor.sink.write([h.message(h.topology.ledger, bad).message])
    (letter,) = h.on(h.topology.dead_letters)
    data = json.loads(letter.value or b"")["data"]
    assert data["source_topic"] == h.topology.ledger and data["kind"] == "invalid"
    assert "V-SECRET" not in data["reason"]
