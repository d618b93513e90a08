"""Every output, byte for byte, of one fixed stream: the same as when it was recorded.

The recording (``tests/golden/outputs.json.gz``) was made before the worker's
pipeline was rebuilt for speed: every record on the outcomes, alerts,
dead-letter and referrals topics (key and value) and every ledger row. Any
change to how the worker moves messages must leave all of it unchanged. The
input is kept beside it (``inputs.json.gz``), so a change to the simulator
does not change the stream; a ledger column added later is not compared.

The stream is fixed in time: three simulated days of a force ending at
``END``, with hand-made cases (malformed inputs, a wrongly keyed incident, a
redelivered event, a crime for two incidents, a record before its report, a
cancellation), all published in event-time order. The worker's clock is
pinned at ``END`` (a clock rate of 1e-9), so what falls due is the same on
every run. Records are compared as
sorted lists per topic: which partition a record lands on is part of the key's
hash, and the order across partitions is not promised.

To record again (only when an output is meant to change, and say why in the
commit): ``CDI_GOLDEN_RECORD=1 python -m pytest tests/integration/test_golden_outputs.py``
records the outputs of the kept input; with ``CDI_GOLDEN_RECORD=inputs`` it
makes the input anew from the simulator first.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import alerts, crime_incidents, crimes, incidents
from monitor.devtools.simulate import ForceProfile, Simulation
from tests.support import events as ev
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent.parent / "golden" / "outputs.json.gz"
INPUTS = GOLDEN.with_name("inputs.json.gz")
END = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def stream() -> list[tuple[str, str | None, bytes]]:
    """The kept input: (topic, key, value) in the order they are produced."""
    if os.environ.get("CDI_GOLDEN_RECORD") == "inputs":
        with gzip.open(INPUTS, "wt", encoding="utf-8") as f:
            json.dump([[t, k, v.decode()] for t, k, v in simulated_stream()], f, indent=0)
    with gzip.open(INPUTS, "rt", encoding="utf-8") as f:
        return [(topic, key, value.encode()) for topic, key, value in json.load(f)]


def simulated_stream() -> list[tuple[str, str | None, bytes]]:
    """(topic, key, value) in the order they are produced: by the time each is published.

    Everything is published in event-time order, as upstream systems would, so
    no input is late (the allowed lateness is 0) and what is announced cannot
    depend on how fast the worker reads one topic against another.
    """
    timed: list[tuple[datetime, str, str | None, bytes]] = [
        (e.publish_at, e.topic, e.key, e.to_bytes())
        for e in Simulation(ForceProfile(), seed=23).events(END - timedelta(days=3), END)
    ]
    bad_time = ev.reported("GOLD-E2", END - 2 * H)
    bad_time["data"]["reported_at"] = "2026-03-04T10:00:00"  # no offset
    duplicate = ev.recorded("GOLD-CR-D", ["GOLD-D"], END - 30 * H, event_id="gold-dup-crime")
    unknown = ev.envelope("cdi.crime.reclassified", {"crime_id": "X"}, END - 47 * H)
    second = timedelta(seconds=1)
    # (published at, topic, key, value)
    cases: list[tuple[datetime, str, str | None, dict[str, Any] | bytes]] = [
        (END - 50 * H, "incidents", "GOLD-D", ev.reported("GOLD-D", END - 50 * H)),
        (END - 49 * H, "incidents", "GOLD-E1", b"this is not json"),
        (END - 48 * H, "incidents", "GOLD-E2", bad_time),
        (END - 47 * H, "crime-records", "X", unknown),
        (END - 46 * H, "incidents", "GOLD-E4", b"[1, 2, 3]"),
        (END - 40 * H, "incidents", "GOLD-F1", ev.reported("GOLD-F1", END - 40 * H)),
        (
            END - 40 * H,
            "incidents",
            "GOLD-F2",
            ev.reported("GOLD-F2", END - 40 * H, division="blaby"),
        ),
        # Recorded at the warning point itself: no alert.
        (END - 30 * H, "crime-records", "GOLD-D", duplicate),
        (END - 30 * H + second, "crime-records", "GOLD-D", duplicate),
        # Produced with the wrong key, so it lands on the wrong partition.
        (END - 30 * H, "incidents", "wrongly-keyed", ev.reported("GOLD-I", END - 30 * H)),
        # The record an hour before its report reaches Kafka; no alert point between.
        (
            END - 20 * H,
            "crime-records",
            "GOLD-C",
            ev.recorded("GOLD-CR-C", ["GOLD-C"], END - 20 * H),
        ),
        (END - 20 * H + second, "incidents", "GOLD-C", ev.reported("GOLD-C", END - 21 * H)),
        # One crime for two incidents, after their deadlines.
        (
            END - 9 * H,
            "crime-records",
            "GOLD-F1",
            ev.recorded("GOLD-CR-F", ["GOLD-F1", "GOLD-F2"], END - 9 * H),
        ),
        (END - 3 * H, "crime-records", "GOLD-C", ev.cancelled("GOLD-CR-C", END - 3 * H)),
        (END - 2 * H, "crime-records", "GOLD-I", ev.recorded("GOLD-CR-I", ["GOLD-I"], END - 2 * H)),
    ]
    for number, (at, topic, key, value) in enumerate(cases):
        if isinstance(value, dict) and value is not duplicate:
            value["id"] = f"gold-{number}"  # fixed ids: outputs name their inputs
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        timed.append((at, topic, key, raw))
    timed.sort(key=lambda item: item[0])  # stable: the simulator's own order is kept
    return [(topic, key, value) for _, topic, key, value in timed]


def consumed(worker: WorkerProcess) -> float:
    return worker.metric("cdi_events_consumed_total") + worker.metric("cdi_events_rejected_total")


def settle(topics: Topics, d: Deployment, worker: WorkerProcess, expected: int) -> None:
    deadline = time.monotonic() + 300
    while consumed(worker) < expected:
        assert time.monotonic() < deadline, f"consumed {consumed(worker)} of {expected}"
        time.sleep(1)
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 5:
        sizes = (
            *(len(topics.read(t)) for t in (d.outcomes, d.alerts, d.referrals)),
            worker.metric("cdi_ledger_rows_written_total"),
        )
        if sizes != last:
            last, stable_since = sizes, time.monotonic()
        assert time.monotonic() < deadline, "outputs never settled"
        time.sleep(1)


def _without_wall_clock(dead_letter: bytes) -> str:
    """A dead letter with the times that come from the wall clock blanked.

    ``time`` is when the worker rejected the input (the pinned clock moves by
    microseconds between runs) and ``source_timestamp`` is when the test
    produced it; everything else must match.
    """
    event = json.loads(dead_letter)
    event["time"] = "(rejected at)"
    event["data"]["source_timestamp"] = "(produced at)"
    return json.dumps(event, sort_keys=True)


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def collect(topics: Topics, d: Deployment, database_url: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for name, topic in (
        ("outcomes", d.outcomes),
        ("alerts", d.alerts),
        ("dead_letters", d.dead_letters),
        ("referrals", d.referrals),
    ):
        values = _without_wall_clock if name == "dead_letters" else bytes.decode
        out[name] = sorted(
            [None if r.key is None else r.key.decode(), values(r.raw)] for r in topics.read(topic)
        )
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in (incidents, alerts, crimes, crime_incidents):
                columns = [c for c in table.c if c.name != "updated_at"]
                rows = connection.execute(select(*columns)).all()
                out[f"ledger.{table.name}"] = sorted([_cell(v) for v in row] for row in rows)
                out[f"ledger.{table.name}.columns"] = [c.name for c in columns]
    finally:
        engine.dispose()
    return out


@pytest.fixture(scope="module")
def outputs(broker: str, topics: Topics, log_dir: Path) -> Iterator[dict[str, list]]:
    events = stream()
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(
            name="golden",  # topic names appear in dead letters
            bootstrap=broker,
            database_url=url,
            partitions=4,
            extra={
                "CDI_CLOCK_ORIGIN": END.isoformat(),
                "CDI_CLOCK_RATE": "1e-9",
                # The simulator publishes reports a little after they are made.
                "CDI_ALLOWED_LATENESS": "2h",
            },
        )
        d.create_topics()
        names = {"incidents": d.incidents, "crime-records": d.crime_records}
        for topic, key, value in events:
            topics.send(names[topic], key, value)
        topics.flush()
        worker = WorkerProcess(d, log_dir).start()
        try:
            settle(topics, d, worker, len(events))
            yield collect(topics, d, url)
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


def test_the_fixed_stream_gives_exactly_the_recorded_outputs(outputs: dict[str, list]) -> None:
    if os.environ.get("CDI_GOLDEN_RECORD"):
        GOLDEN.parent.mkdir(exist_ok=True)
        with gzip.open(GOLDEN, "wt", encoding="utf-8") as f:
            json.dump(outputs, f, indent=0, sort_keys=True)
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as f:
        recorded = json.load(f)
    assert sorted(outputs) == sorted(recorded)
    for name, expected in recorded.items():
        actual = outputs[name]
        if name.startswith("ledger.") and not name.endswith(".columns"):
            # Only the columns the recording has (a later migration may add some).
            at = [outputs[f"{name}.columns"].index(c) for c in recorded[f"{name}.columns"]]
            actual = sorted([row[i] for i in at] for row in actual)
        elif name.endswith(".columns"):
            continue
        missing = [r for r in expected if r not in actual]
        extra = [r for r in actual if r not in expected]
        assert not missing and not extra, (
            f"{name}: {len(missing)} recorded outputs missing, {len(extra)} new; "
            f"first missing {missing[:2]}, first new {extra[:2]}"
        )
        assert actual == expected, f"{name}: same records, different multiplicity"


def test_the_recording_covers_every_kind_of_output(outputs: dict[str, list]) -> None:
    """The comparison is only as strong as the stream: every output kind is in it."""
    types = {
        json.loads(value)["type"]
        for name in ("outcomes", "alerts", "dead_letters", "referrals")
        for _, value in outputs[name]
    }
    assert {
        "cdi.recording.measured",
        "cdi.incident.closed_without_crime",
        "cdi.recording.due_soon",
        "cdi.recording.overdue",
        "cdi.recording.resolved",
        "cdi.input.rejected",
        "cdi.victim.referral_due",
        "cdi.victim.referral_withheld",
    } <= types
    assert len(outputs["ledger.incidents"]) > 1000
    assert outputs["ledger.crime_incidents"]
