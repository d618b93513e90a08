"""Where the ledger topic's messages become database rows: in a thread, or in a process of its own.

``write_messages`` is the whole job: decode each message, join each
incident's states and project them onto rows (``monitor.application.ledger``),
merge each crime's events, and write the rows in one transaction. It is
Python work of about as much as the stream's own per event, so in the worker
it runs in a separate process (``ProcessLedgerWriter``): in a thread it would
hold Python's interpreter lock for a third of the time the stream needs it
(measured: 28% of the worker's wall time in the ledger thread, on SQLite, at
about 1,000 events a second). The process has its own database connection and
is started with ``spawn``, never forked from the worker's threads. The tests
that drive the agents without a database use ``ThreadLedgerWriter``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Protocol

from monitor.adapters.gc_tuning import tune_for_streaming
from monitor.adapters.safe_errors import database_error, database_error_for_log
from monitor.adapters.wire.internal_messages import DecodeError, decode_ledger
from monitor.application.ledger import (
    AlertRow,
    CrimeRow,
    IncidentRow,
    Ledger,
    LedgerBatch,
    crime_row_cancelled,
    crime_row_recorded,
    incident_rows,
    merge_crime,
)
from monitor.domain.incident import IncidentState, join
from monitor.domain.policy import TimelinessPolicy
from monitor.settings import Settings


class LedgerWriteFailed(Exception):
    """The database did not take a batch: ``error`` for ``/health``, ``detail`` for the log.

    Raised in the writer's process in place of the database driver's own
    error, which may not survive the trip between processes, and told as
    ``monitor.adapters.safe_errors`` tells database errors: by class and SQLSTATE (the
    text may quote a row), with the first line of a connection failure's text
    in ``detail``.
    """

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(error, detail)
        self.error = error
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Written:
    """What one write did: rows written, and the messages that could not be read, with why."""

    rows: int
    unreadable: list[tuple[int, str]] = field(default_factory=list)


def rows_of(values: Sequence[bytes], policy: TimelinessPolicy) -> tuple[LedgerBatch, Written]:
    """The rows of the ledger messages ``values``: states joined, crime events merged.

    Messages may arrive in any order (several partitions, several workers), so
    an incident's states are joined, never replaced: an older copy never wins.
    """
    states: dict[str, IncidentState] = {}
    crimes: dict[str, CrimeRow] = {}
    unreadable: list[tuple[int, str]] = []
    for index, value in enumerate(values):
        try:
            changed = decode_ledger(value)
        except DecodeError as exc:  # msgspec names the field, never its value
            unreadable.append((index, f"unreadable internal message: {exc}"))
            continue
        for state in changed.incidents:
            seen = states.get(state.incident_id)
            states[state.incident_id] = state if seen is None else join(seen, state)
        crime_rows = [crime_row_recorded(c) for c in changed.recorded]
        crime_rows += [crime_row_cancelled(c) for c in changed.cancelled]
        for row in crime_rows:
            crimes[row.crime_id] = merge_crime(crimes.get(row.crime_id), row)
    incidents: list[IncidentRow] = []
    alerts: list[AlertRow] = []
    for state in states.values():
        incident_row, alert = incident_rows(state, policy)
        incidents.append(incident_row)
        if alert is not None:
            alerts.append(alert)
    batch = LedgerBatch(incidents=incidents, alerts=alerts, crimes=list(crimes.values()))
    return batch, Written(len(batch), unreadable)


def write_messages(ledger: Ledger, policy: TimelinessPolicy, values: Sequence[bytes]) -> Written:
    batch, written = rows_of(values, policy)
    if len(batch):
        ledger.write(batch)
    return written


class LedgerWriter(Protocol):
    async def write(self, values: Sequence[bytes]) -> Written:
        """Write the messages' rows; raise if the database could not take them."""

    def close(self) -> None: ...


class ThreadLedgerWriter:
    def __init__(self, ledger: Ledger, policy: TimelinessPolicy) -> None:
        self.ledger = ledger
        self.policy = policy

    async def write(self, values: Sequence[bytes]) -> Written:
        return await asyncio.to_thread(write_messages, self.ledger, self.policy, values)

    def close(self) -> None:
        return None


# The ledger of the writer process (one per process, made by ``_start``).
_process_ledger: tuple[Ledger, TimelinessPolicy] | None = None


def _start(settings: Settings) -> None:
    global _process_ledger
    from monitor.adapters.sql.ledger import SqlLedger, make_engine
    from monitor.application.ledger import reconciler

    engine = make_engine(settings.database_url.get_secret_value())
    _process_ledger = (SqlLedger(engine, reconciler(settings.policy)), settings.policy)
    tune_for_streaming()


def _write_in_process(values: list[bytes]) -> Written:
    assert _process_ledger is not None  # noqa: S101 - _start ran first
    ledger, policy = _process_ledger
    try:
        return write_messages(ledger, policy, values)
    except Exception as exc:
        raise LedgerWriteFailed(database_error(exc), database_error_for_log(exc)) from None


class ProcessLedgerWriter:
    """The ledger written by one process of its own (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings,),
        )

    async def write(self, values: Sequence[bytes]) -> Written:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _write_in_process, list(values))
        except BrokenProcessPool:
            # The process died (killed, out of memory): the next try starts another.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
