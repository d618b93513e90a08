"""Simulator -> CSV exports -> ``cdi-monitor import``: the outcomes of the simulator's events.

Two days of a simulated force (seed 7, May 2025: no clock change in it) are
consumed twice, each time as a backfill (produced first, then a worker
started on a fresh deployment, as docs/import.md tells a force to do):

- **direct**: the simulator's own events, in the order and with the ids it
  publishes them (late incident feeds and redelivered copies included);
- **imported**: the same period written as a STORM-like and a Niche-like
  extract by ``simulate --export-csv`` and loaded by ``cdi-monitor import``
  with the example mapping.

Alerts, closings without crime and referrals must be the same events byte
for byte, the measurements and the ledger rows the same (bar the ledger's
copy of the live state, which holds the input events' ids). Then the same
files are imported again: nothing is sent, and nothing changes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import alerts, crimes, incidents
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.devtools.simulate.csv_export import EXAMPLE_MAPPING, export
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

START = datetime(2025, 5, 12, tzinfo=UTC)
UNTIL = START + timedelta(days=2)


@dataclass(frozen=True)
class Seen:
    alerts: frozenset[bytes]
    closed_without_crime: frozenset[bytes]
    measurements: frozenset[bytes]
    referrals: frozenset[bytes]
    ledger: dict[str, frozenset[tuple]]
    inputs: int

    def without_state(self) -> dict[str, frozenset[tuple]]:
        return {name: frozenset(r[:-1] for r in rows) for name, rows in self.ledger.items()}


def simulation() -> Simulation:
    return Simulation(ForceProfile(), seed=7)


def consumed(worker: WorkerProcess) -> float:
    return worker.metric("cdi_events_consumed_total") + worker.metric("cdi_events_rejected_total")


def settle(topics: Topics, d: Deployment, worker: WorkerProcess, expected: int) -> None:
    """Wait until the worker has read every input and its outputs stop changing."""
    deadline = time.monotonic() + 240
    while consumed(worker) < expected:
        assert time.monotonic() < deadline, f"consumed {consumed(worker)} of {expected}"
        time.sleep(1)
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 4:
        sizes = tuple(len(topics.read(t)) for t in (d.alerts, d.outcomes, d.referrals))
        if sizes != last:
            last, stable_since = sizes, time.monotonic()
        assert time.monotonic() < deadline, "outputs never settled"
        time.sleep(1)


def seen(topics: Topics, d: Deployment, database_url: str) -> Seen:
    outcomes = topics.read(d.outcomes)
    ledger = {}
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in (incidents, alerts, crimes):
                # The live state (last column of incidents) is kept; updated_at is wall time.
                columns = [c for c in table.c if c.name not in ("updated_at", "state")]
                if table is incidents:
                    columns.append(table.c.state)
                rows = connection.execute(select(*columns)).all()
                ledger[table.name] = frozenset(tuple(r) for r in rows)
    finally:
        engine.dispose()
    return Seen(
        alerts=frozenset(r.raw for r in topics.read(d.alerts)),
        closed_without_crime=frozenset(
            r.raw for r in outcomes if r.type == "cdi.incident.closed_without_crime"
        ),
        measurements=frozenset(r.raw for r in outcomes if r.type == "cdi.recording.measured"),
        referrals=frozenset(r.raw for r in topics.read(d.referrals)),
        ledger=ledger,
        inputs=len(topics.read(d.incidents)) + len(topics.read(d.crime_records)),
    )


def import_files(d: Deployment, files: list[Path], rejects: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "import", "--mapping", str(files[0]),
         *map(str, files[1:]), "--rejects", str(rejects), "--max-rejects", "0"],
        env=d.env(1),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("exports")
    export(simulation(), START, UNTIL, directory, EXAMPLE_MAPPING)
    return [directory / "mapping.toml", directory / "incidents.csv", directory / "crimes.csv"]


@pytest.fixture(scope="module")
def direct(broker: str, topics: Topics, log_dir: Path) -> Seen:
    events = list(simulation().events(START, UNTIL))
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=3)
        d.create_topics()
        names = {"incidents": d.incidents, "crime-records": d.crime_records}
        for event in events:
            topics.send(names[event.topic], event.key, event.to_bytes())
        topics.flush()
        worker = WorkerProcess(d, log_dir).start()
        try:
            settle(topics, d, worker, len(events))
            return seen(topics, d, url)
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


@pytest.fixture(scope="module")
def imported(
    broker: str, topics: Topics, log_dir: Path, exports: list[Path], tmp_path_factory
) -> tuple[Seen, Seen, str]:
    """The import, a worker over it, then the same import again: (first, after again, output)."""
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.csv"
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=3)
        first_run = import_files(d, exports, rejects)
        assert first_run.returncode == 0, first_run.stdout + first_run.stderr
        assert "0 rejected" in first_run.stdout
        worker = WorkerProcess(d, log_dir).start()
        try:
            sent = len(topics.read(d.incidents)) + len(topics.read(d.crime_records))
            settle(topics, d, worker, sent)
            first = seen(topics, d, url)
            second_run = import_files(d, exports, rejects)
            assert second_run.returncode == 0, second_run.stdout + second_run.stderr
            time.sleep(3)  # anything sent would be read within the tick interval
            settle(topics, d, worker, sent)
            again = seen(topics, d, url)
            # One new row into the running monitor: late data, and the import says so.
            header, row = exports[1].read_text(encoding="utf-8-sig").splitlines()[:2]
            late = exports[1].with_name("late-incidents.csv")
            late.write_text(f"{header}\n{row.replace('LP-', 'LATE-', 1)}\n", encoding="utf-8")
            third_run = import_files(d, [exports[0], late], rejects)
            assert third_run.returncode == 0, third_run.stdout + third_run.stderr
            output = first_run.stdout + "\n" + second_run.stdout + "\n" + third_run.stdout
            return first, again, output
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


def test_the_round_trip_is_rich_enough_to_mean_something(direct: Seen) -> None:
    assert len(direct.measurements) > 300
    assert {b'"type":"cdi.recording.overdue"' in a for a in direct.alerts} == {True, False}
    assert direct.closed_without_crime
    assert direct.referrals


def test_imported_exports_give_the_alerts_and_outcomes_of_the_simulators_own_events(
    direct: Seen, imported
) -> None:
    first, _, _ = imported
    assert first.alerts == direct.alerts, f"{len(first.alerts ^ direct.alerts)} alerts differ"
    assert first.measurements == direct.measurements
    assert first.closed_without_crime == direct.closed_without_crime
    assert first.referrals == direct.referrals
    for table, rows in direct.without_state().items():
        differ = rows ^ first.without_state()[table]
        assert not differ, f"{table} rows differ: {sorted(differ, key=repr)[:4]}"


def test_importing_the_same_files_again_sends_nothing_and_changes_nothing(imported) -> None:
    first, again, output = imported
    assert again == first
    assert again.inputs == first.inputs
    assert "sent 0 events" in output
    assert f"{first.inputs:,} of the events are already on" in output


def test_the_import_says_whether_the_monitor_will_replay_its_events_or_take_them_late(
    imported,
) -> None:
    _, _, output = imported
    assert "note: " in output and "has not read these topics yet" in output  # the backfill
    assert re.search(
        r"warning: (\d) of the \1 events to send are older than CDI_ALLOWED_LATENESS \(0s\), "
        r"and the monitor's group '[^']+' already reads these topics",
        output,
    ), output
