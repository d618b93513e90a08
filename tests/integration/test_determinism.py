"""The same input gives the same measurements, alerts and ledger, however it is consumed.

One simulated stream (three days of a force, with out-of-order records,
duplicates, multi-incident and unlinked crimes) is consumed five ways:

- live: the simulator publishes each event at its time on an accelerated
  clock (three days in a minute) while a worker on the same clock consumes
  them, 4 partitions: alerts fall due as the stream flows;
- replayed: a fresh deployment reading those topics from the start, later;
- on 1 partition;
- by two workers sharing 3 partitions;
- with the crime-records consumer 40,000 messages behind the incidents one.

The allowed lateness (2 simulated hours, under 2 real seconds) covers the
publishing jitter of the live run; the promise is that runs agree when every
input reaches Kafka within the allowed lateness of its event time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from monitor.adapters.clock import AcceleratedClock
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import alerts, crimes, incidents
from monitor.devtools.simulate import ForceProfile, Simulation, publish
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

RATE = 4320.0  # three simulated days a real minute
DAYS = timedelta(days=3)


@dataclass(frozen=True)
class Timeline:
    """The simulated clock every run shares: it starts when the live run starts publishing."""

    start: datetime

    @property
    def until(self) -> datetime:
        return self.start + DAYS

    @property
    def env(self) -> dict[str, str]:
        return {
            "CDI_CLOCK_RATE": str(RATE),
            "CDI_CLOCK_ORIGIN": self.start.isoformat(),
            "CDI_ALLOWED_LATENESS": "2h",
        }


@dataclass(frozen=True)
class Result:
    alerts: frozenset[bytes]
    closed_without_crime: frozenset[bytes]
    measurements: dict[str, tuple[str, float, bool]]
    dead_letters: frozenset[str]
    ledger: dict[str, list[tuple]]
    referrals: frozenset[bytes] = frozenset()


def simulation() -> Simulation:
    return Simulation(ForceProfile(), seed=7)


def stream(t: Timeline) -> list[tuple[str, str, bytes]]:
    return [(e.topic, e.key, e.to_bytes()) for e in simulation().events(t.start, t.until)]


def backlog(count: int, t: Timeline) -> list[tuple[str, str, bytes]]:
    """Old crime records that name no incident, queued ahead of the stream on ``crime-records``.

    They make the crime-records consumer lag far behind the incidents one, the
    case where an alert decided by the wall clock would fire before the
    recording that prevents it had been read.
    """
    at = (t.start - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    out = []
    for i in range(count):
        event = {
            "specversion": "1.0",
            "id": f"backlog-{i}",
            "source": "urn:test:niche",
            "type": "cdi.crime.recorded",
            "time": at,
            "datacontenttype": "application/json",
            "data": {
                "crime_id": f"BACKLOG-{i:06d}",
                "incident_ids": [],
                "recorded_at": at,
                "offence_code": "46",
                "offence_group": "theft_offences",
            },
        }
        out.append(("crime-records", f"BACKLOG-{i:06d}", json.dumps(event).encode()))
    return out


def produce(topics: Topics, d: Deployment, events: list[tuple[str, str, bytes]]) -> None:
    names = {"incidents": d.incidents, "crime-records": d.crime_records}
    for topic, key, value in events:
        topics.send(names[topic], key, value)
    topics.flush()


def consumed(workers: list[WorkerProcess]) -> float:
    return sum(
        w.metric("cdi_events_consumed_total") + w.metric("cdi_events_rejected_total")
        for w in workers
    )


def settle(topics: Topics, d: Deployment, workers: list[WorkerProcess], expected: int) -> None:
    """Wait until every input is consumed and the outputs stop changing."""
    deadline = time.monotonic() + 240
    while consumed(workers) < expected:
        assert time.monotonic() < deadline, f"consumed {consumed(workers)} of {expected}"
        time.sleep(1)
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 4:
        sizes = (len(topics.read(d.alerts)), len(topics.read(d.outcomes)))
        if sizes != last:
            last, stable_since = sizes, time.monotonic()
        assert time.monotonic() < deadline, "outputs never settled"
        time.sleep(1)


def collect(topics: Topics, d: Deployment, database_url: str) -> Result:
    outcomes = topics.read(d.outcomes)
    measured: dict[str, tuple[str, float, bool]] = {}
    first: dict[str, str] = {}
    for r in outcomes:
        if r.type != "cdi.recording.measured":
            continue
        data = r.value["data"]
        key = (data["recorded_at"], data["crime_id"])
        incident = data["incident_id"]
        if incident not in first or key < (first[incident], measured[incident][0]):
            first[incident] = data["recorded_at"]
            measured[incident] = (data["crime_id"], data["elapsed_seconds"], data["within_target"])
    ledger = {}
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            for table, key in (
                (incidents, "incident_id"),
                (alerts, "alert_id"),
                (crimes, "crime_id"),
            ):
                columns = [c for c in table.c if c.name != "updated_at"]
                rows = connection.execute(select(*columns).order_by(table.c[key])).all()
                ledger[table.name] = [
                    tuple(row) for row in rows if not str(row[0]).startswith("BACKLOG-")
                ]
    finally:
        engine.dispose()
    return Result(
        alerts=frozenset(r.raw for r in topics.read(d.alerts)),
        closed_without_crime=frozenset(
            r.raw for r in outcomes if r.type == "cdi.incident.closed_without_crime"
        ),
        measurements=measured,
        dead_letters=frozenset(
            json.loads(r.raw)["data"]["value_base64"] for r in topics.read(d.dead_letters)
        ),
        ledger=ledger,
        referrals=frozenset(
            r.raw
            for r in topics.read(d.referrals)
            if not str(r.value.get("subject", "")).startswith("BACKLOG-")
        ),
    )


async def publish_live(d: Deployment, t: Timeline) -> int:
    """Publish each event at its time on the accelerated clock, as upstream would."""
    producer = AIOKafkaProducer(bootstrap_servers=d.bootstrap, acks="all", linger_ms=0)
    names = {"incidents": d.incidents, "crime-records": d.crime_records}
    await producer.start()
    try:

        async def send(topic: str, key: bytes, value: bytes) -> None:
            await producer.send(names[topic], key=key, value=value)

        clock = AcceleratedClock(origin=t.start, rate=RATE)
        summary = await publish(simulation(), clock=clock, send=send, start=t.start, until=t.until)
        await producer.flush()
        return summary.sent
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    # Far enough ahead for the live worker to be ready when the stream starts.
    return Timeline(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30))


@pytest.fixture(scope="module")
def events(timeline: Timeline) -> list[tuple[str, str, bytes]]:
    return stream(timeline)


@pytest.fixture(scope="module")
def live(
    broker: str, topics: Topics, log_dir: Path, events, timeline: Timeline
) -> Iterator[tuple[Deployment, Result]]:
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=4, extra=timeline.env)
        d.create_topics()
        worker = WorkerProcess(d, log_dir).start()
        try:
            wait = (timeline.start - datetime.now(UTC)).total_seconds()
            assert wait > 0, "the worker took too long to start for the live stream"
            time.sleep(wait)
            sent = asyncio.run(publish_live(d, timeline))
            assert sent == len(events)
            settle(topics, d, [worker], len(events))
            yield d, collect(topics, d, url)
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


def run_other(
    broker: str,
    topics: Topics,
    log_dir: Path,
    events,
    timeline: Timeline,
    *,
    partitions: int,
    workers: int = 1,
    inputs: str | None = None,
    lag: int = 0,
) -> Result:
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(
            bootstrap=broker,
            database_url=url,
            partitions=partitions,
            inputs=inputs,
            extra=timeline.env,
        )
        if inputs is None:
            d.create_topics()
            events = backlog(lag, timeline) + events
            produce(topics, d, events)
        started = [WorkerProcess(d, log_dir) for _ in range(workers)]
        try:
            for w in started:
                w.start()
            settle(topics, d, started, len(events))
            return collect(topics, d, url)
        except BaseException:
            for w in started:
                print(w.log())
            raise
        finally:
            for w in started:
                w.stop()


def assert_same(expected: Result, actual: Result) -> None:
    assert actual.alerts == expected.alerts, (
        f"{len(actual.alerts ^ expected.alerts)} alert events differ"
    )
    assert actual.closed_without_crime == expected.closed_without_crime
    assert actual.measurements == expected.measurements
    assert actual.dead_letters == expected.dead_letters
    assert actual.referrals == expected.referrals, (
        f"{len(actual.referrals ^ expected.referrals)} referral events differ"
    )
    for table in ("incidents", "alerts", "crimes"):
        missing = set(expected.ledger[table]) ^ set(actual.ledger[table])
        assert not missing, f"{table} rows differ: {sorted(missing, key=repr)[:6]}"


def test_the_stream_is_rich_enough_to_mean_something(live) -> None:
    _, result = live
    kinds = {json.loads(a)["type"] for a in result.alerts}
    assert kinds == {"cdi.recording.due_soon", "cdi.recording.overdue", "cdi.recording.resolved"}
    assert len(result.measurements) > 500
    assert any(not within for _, _, within in result.measurements.values())
    assert result.closed_without_crime
    referral_kinds = {json.loads(r)["type"] for r in result.referrals}
    assert {"cdi.victim.referral_due", "cdi.victim.referral_withheld"} <= referral_kinds


def test_no_alert_is_raised_for_an_incident_recorded_before_its_alert_point(live) -> None:
    """Equal runs could be equally wrong: check the alerts against the recordings too."""
    _, result = live
    raised = [json.loads(a) for a in result.alerts]
    assert raised
    for alert in raised:
        data = alert["data"]
        measured = result.measurements.get(data["incident_id"])
        if measured is None:
            continue  # never recorded, or only closed: alerts are expected
        elapsed = measured[1]
        if alert["type"] == "cdi.recording.overdue":
            assert elapsed > 86_400, f"overdue alert for a recording in {elapsed}s: {data}"
        elif alert["type"] == "cdi.recording.due_soon":
            assert elapsed > 72_000, f"due-soon alert for a recording in {elapsed}s: {data}"


def test_replaying_the_topics_from_the_start_gives_what_the_live_run_gave(
    broker, topics, log_dir, events, timeline, live
) -> None:
    d, expected = live
    assert_same(
        expected, run_other(broker, topics, log_dir, events, timeline, partitions=4, inputs=d.name)
    )


def test_one_partition_gives_what_four_gave(
    broker, topics, log_dir, events, timeline, live
) -> None:
    assert_same(live[1], run_other(broker, topics, log_dir, events, timeline, partitions=1))


def test_two_workers_on_three_partitions_give_what_one_worker_gave(
    broker, topics, log_dir, events, timeline, live
) -> None:
    assert_same(
        live[1], run_other(broker, topics, log_dir, events, timeline, partitions=3, workers=2)
    )


def test_a_lagging_crime_records_consumer_raises_no_alert_a_recording_would_prevent(
    broker, topics, log_dir, events, timeline, live
) -> None:
    assert_same(
        live[1], run_other(broker, topics, log_dir, events, timeline, partitions=2, lag=40_000)
    )
