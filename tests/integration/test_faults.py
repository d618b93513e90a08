"""Faults against the real broker and PostgreSQL: a killed worker, a lost database, a frozen broker.

- Two workers share the partitions and one is killed with SIGKILL in the
  middle of a stream: after the rebalance every incident's outcome, alert and
  ledger row is the one a run without the crash gives; outputs published
  again carry the same event id and the same bytes.
- PostgreSQL unreachable for 30 s under load (through a proxy that is cut:
  the shared server itself is never stopped): the worker keeps consuming,
  says it is degraded on ``/health`` and in ``cdi_ledger_degraded``, and
  the ledger is complete and written once when the database is back.
- The broker frozen (SIGSTOP) for longer than the session timeout, then
  resumed: the same worker process carries on and nothing is lost.

(A restart across an incident's deadline is ``test_restart.py``.)
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import alerts, crimes, incidents
from tests.integration.test_determinism import (
    Result,
    Timeline,
    assert_same,
    collect,
    produce,
    settle,
    stream,
)
from tests.support import events as ev
from tests.support.kafka import Record, Topics, require_embedded_broker
from tests.support.postgres import fresh_postgres_database
from tests.support.tcp_proxy import TcpProxy
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration


# --- helpers --------------------------------------------------------------------------------


def ends(topics: Topics, topic: str) -> dict[int, int]:
    """The end offset of each partition that holds records (read, not asked: see README)."""
    out: dict[int, int] = {}
    for r in topics.read(topic):
        out[r.partition] = max(out.get(r.partition, 0), r.offset + 1)
    return out


def committed(bootstrap: str, group: str, topic: str, partitions: list[int]) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {
            p: consumer.committed(TopicPartition(topic, p), timeout_ms=10_000) or 0
            for p in partitions
        }
    except KafkaTimeoutError:
        return dict.fromkeys(partitions, -1)  # not known yet: ask again
    finally:
        consumer.close()


def wait_caught_up(topics: Topics, d: Deployment, timeout: float = 240) -> None:
    """Until the group has committed every input, then every ledger record, then the
    outputs settle.

    (The links topic never stops growing: watermark ticks go through it every
    half second. The outputs settling is what says the links were processed.)
    """
    deadline = time.monotonic() + timeout
    for names in ([d.incidents, d.crime_records], [f"{d.name}-ledger"]):
        target = {name: ends(topics, name) for name in names}
        while True:
            behind = {}
            for name, end in target.items():
                done = committed(topics.bootstrap, d.name, name, sorted(end))
                lagging = {p: (done[p], e) for p, e in end.items() if done[p] < e}
                if lagging:
                    behind[name] = lagging
            if not behind:
                break
            assert time.monotonic() < deadline, f"never caught up (committed, end): {behind}"
            time.sleep(1)
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 5:
        sizes = (len(topics.read(d.alerts)), len(topics.read(d.outcomes)))
        if sizes != last:
            last, stable_since = sizes, time.monotonic()
        time.sleep(1)


def repeated(records: list[Record]) -> int:
    """How many records repeat an earlier one; fails if an id was reused for other content."""
    by_id: dict[str, set[bytes]] = defaultdict(set)
    count = 0
    for r in records:
        event_id = r.value["id"]
        count += event_id in by_id
        by_id[event_id].add(r.raw)
    changed = {i: v for i, v in by_id.items() if len(v) > 1}
    assert not changed, f"event ids published with different content: {list(changed)[:3]}"
    return count


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    # Far enough in the past on the accelerated clock that every deadline of the
    # stream has passed when the workers start: the runs are pure replays, and
    # the result cannot depend on when each worker happened to be killed.
    return Timeline(datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=100))


# --- a worker killed mid-stream ---------------------------------------------------------------


def test_a_worker_killed_mid_stream_changes_no_outcome_alert_or_ledger_row(
    broker: str, topics: Topics, log_dir: Path, timeline: Timeline
) -> None:
    events = stream(timeline)
    with fresh_postgres_database() as url:
        upgrade(url)
        # Small batches: a worker takes everything buffered (up to CDI_BATCH_SIZE) as one
        # batch, and with the default a worker reads this whole stream in a few batches,
        # too few for the kill to land between two of them.
        extra = {**timeline.env, "CDI_BATCH_SIZE": "50"}
        d = Deployment(bootstrap=broker, database_url=url, partitions=4, extra=extra)
        d.create_topics()
        # Everything is in Kafka before the workers start, as in a replay: produced
        # later, days after its event time, the stream would break the promise
        # the runs are compared under (inputs reach Kafka within the allowed
        # lateness), and a worker that had found the topics empty, and so known
        # up to now, would rightly raise alerts the baseline does not.
        produce(topics, d, events)
        pair = [WorkerProcess(d, log_dir), WorkerProcess(d, log_dir)]
        try:
            with ThreadPoolExecutor(2) as starting:  # both join the group together
                list(starting.map(lambda w: w.start(), pair))
            survivor, victim = pair
            while victim.metric("cdi_events_consumed_total") < len(events) * 0.05:
                assert survivor.process and survivor.process.poll() is None
                time.sleep(0.1)
            consumed_at_kill = sum(w.metric("cdi_events_consumed_total") for w in pair)
            victim.kill()  # SIGKILL: no shutdown, no final commit
            assert consumed_at_kill < len(events) * 0.9, "the kill came too late to mean much"
            wait_caught_up(topics, d)
            assert survivor.process and survivor.process.poll() is None
            crashed = collect(topics, d, url)
            alert_records, outcome_records = topics.read(d.alerts), topics.read(d.outcomes)
        except BaseException:
            for w in pair:
                print(w.log())
            raise
        finally:
            for w in pair:
                w.stop()
    baseline = run_without_a_crash(broker, topics, log_dir, d, timeline, len(events))
    explain_differences(baseline, crashed, log_dir / f"{d.name}-differences.txt")
    assert_same(baseline, crashed)
    repeats = repeated(alert_records) + repeated(outcome_records)
    print(f"killed after {consumed_at_kill:.0f} of {len(events)} events; {repeats} repeated")


def explain_differences(expected: Result, actual: Result, path: Path) -> None:
    """On a difference, write which alerts differ (kind, incident, times) for the failure report."""
    only_expected = sorted(expected.alerts - actual.alerts)
    only_actual = sorted(actual.alerts - expected.alerts)
    if not (only_expected or only_actual):
        return
    lines = []
    for label, raws in (("only without the crash", only_expected), ("only with it", only_actual)):
        for raw in raws:
            event = json.loads(raw)
            data = event["data"]
            lines.append(
                f"{label}: {event['type']} {data['incident_id']} id={event['id']} "
                f"time={event['time']} {json.dumps(data, sort_keys=True)}"
            )
    path.write_text("\n".join(lines))
    print(f"{len(only_expected)} alerts only without the crash, {len(only_actual)} only with it:")
    print("\n".join(lines[:20]))


def by_alert_id(records: list[Record]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in records:
        out[r.value["data"]["alert_id"]].append(r.type)
    return out


def run_without_a_crash(
    broker: str, topics: Topics, log_dir: Path, crashed: Deployment, t: Timeline, count: int
) -> Result:
    """One worker over the same input topics, nothing killed."""
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(
            bootstrap=broker, database_url=url, partitions=4, inputs=crashed.name, extra=t.env
        )
        worker = WorkerProcess(d, log_dir).start()
        try:
            settle(topics, d, [worker], count)
            wait_caught_up(topics, d)
            return collect(topics, d, url)
        finally:
            worker.stop()


# --- the database unreachable ----------------------------------------------------------------

OUTAGE_S = 30
PER_SECOND = 40  # incidents reported (and mostly recorded) per second, during the whole run


@pytest.fixture
def postgres_behind_a_proxy() -> Iterator[tuple[str, TcpProxy]]:
    with fresh_postgres_database() as url:
        upgrade(url)
        parsed = make_url(url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
        try:
            yield (
                parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                proxy,
            )
        finally:
            proxy.stop()


def test_the_database_unreachable_for_30_seconds_degrades_the_worker_and_loses_nothing(
    broker: str, topics: Topics, log_dir: Path, postgres_behind_a_proxy: tuple[str, TcpProxy]
) -> None:
    url, proxy = postgres_behind_a_proxy
    d = Deployment(bootstrap=broker, database_url=url, partitions=2)
    d.create_topics()
    worker = WorkerProcess(d, log_dir).start()
    now = datetime.now(UTC).replace(microsecond=0)
    sent = 0

    def load(seconds: float) -> None:
        """Report incidents steadily; every third is never recorded and is overdue at once."""
        nonlocal sent
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            for _ in range(PER_SECOND // 4):
                i = sent
                overdue = i % 3 == 0
                reported = now - timedelta(hours=30 if overdue else 1)
                topics.send(d.incidents, f"DB-{i}", ev.reported(f"DB-{i}", reported))
                if not overdue:
                    crime = ev.recorded(f"CDB-{i}", [f"DB-{i}"], now)
                    topics.send(d.crime_records, f"DB-{i}", crime)
                sent += 1
            topics.flush()
            time.sleep(0.25)

    try:
        load(5)
        proxy.cut()
        cut_at = time.monotonic()
        consumed_at_cut = worker.metric("cdi_events_consumed_total")
        load(OUTAGE_S / 2)
        health = worker.health()
        assert health["status"] == "degraded" and health["ledger"]["status"] == "degraded"
        assert health["ledger"]["last_error"]
        assert worker.metric("cdi_ledger_degraded") == 1
        load(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
        assert worker.health()["ledger"]["status"] == "degraded"
        assert worker.metric("cdi_ledger_degraded") == 1
        consumed_in_outage = worker.metric("cdi_events_consumed_total") - consumed_at_cut
        assert consumed_in_outage > PER_SECOND * OUTAGE_S * 0.5, "it stopped consuming"
        proxy.restore()
        load(5)
        expected_crimes = sent - len(range(0, sent, 3))
        deadline = time.monotonic() + 120
        while True:
            counts = ledger_counts(url)
            if counts == (sent, len(range(0, sent, 3)), expected_crimes):
                break
            assert time.monotonic() < deadline, f"ledger {counts}, expected {sent} incidents"
            time.sleep(1)
        assert worker.health()["status"] == "ok" and worker.metric("cdi_ledger_degraded") == 0
        assert worker.metric("cdi_ledger_write_errors_total") >= 1
        assert_each_incident_written_once_and_right(url, sent)
    except BaseException:
        print(worker.log())
        raise
    finally:
        worker.stop()


def ledger_counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return (
                c.execute(select(func.count()).select_from(incidents)).scalar_one(),
                c.execute(select(func.count()).select_from(alerts)).scalar_one(),
                c.execute(select(func.count()).select_from(crimes)).scalar_one(),
            )
    finally:
        engine.dispose()


def assert_each_incident_written_once_and_right(url: str, sent: int) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                select(incidents.c.incident_id, incidents.c.first_crime_id, incidents.c.status)
            ).all()
            alert_rows = c.execute(select(alerts.c.incident_id, alerts.c.state)).all()
    finally:
        engine.dispose()
    assert sorted(r.incident_id for r in rows) == sorted(f"DB-{i}" for i in range(sent))
    for r in rows:
        i = int(r.incident_id.split("-")[1])
        assert r.first_crime_id == (None if i % 3 == 0 else f"CDB-{i}"), r
    assert sorted(a.incident_id for a in alert_rows) == sorted(f"DB-{i}" for i in range(0, sent, 3))
    assert {a.state for a in alert_rows} == {"overdue"}


# --- the broker frozen -----------------------------------------------------------------------


def test_a_worker_rides_out_a_broker_frozen_for_longer_than_the_session_timeout(
    log_dir: Path, postgres_url: str
) -> None:
    require_embedded_broker()
    from monitor.adapters.kafka.embedded_broker import EmbeddedBroker

    broker = EmbeddedBroker(log_path=log_dir / "frozen-broker.log").start()
    topics = Topics(broker.bootstrap)
    assert broker.process is not None
    upgrade(postgres_url)
    d = Deployment(bootstrap=broker.bootstrap, database_url=postgres_url, partitions=2)
    worker: WorkerProcess | None = None
    try:
        d.create_topics()
        worker = WorkerProcess(d, log_dir).start()
        now = datetime.now(UTC).replace(microsecond=0)

        def send(first: int, count: int) -> None:
            for i in range(first, first + count):
                topics.send(d.incidents, f"F-{i}", ev.reported(f"F-{i}", now - timedelta(hours=1)))
                topics.send(d.crime_records, f"F-{i}", ev.recorded(f"CF-{i}", [f"F-{i}"], now))
            topics.flush()

        send(0, 200)
        wait_measured(topics, d, 200)
        session = 10  # CDI_BROKER_SESSION_TIMEOUT in the test deployment
        send(200, 100)  # frozen while the worker is in the middle of these
        os.kill(broker.process.pid, signal.SIGSTOP)
        try:
            time.sleep(session + 10)
        finally:
            os.kill(broker.process.pid, signal.SIGCONT)
        send(300, 100)
        measured = wait_measured(topics, d, 400, timeout=180)
        assert worker.process is not None and worker.process.poll() is None, "the worker exited"
        subjects = [r.value["subject"] for r in measured if r.type == "cdi.recording.measured"]
        assert set(subjects) == {f"F-{i}" for i in range(400)}
        assert repeated(measured) == len(subjects) - 400
        deadline = time.monotonic() + 60
        while not worker.ready():
            assert time.monotonic() < deadline, "the worker never became ready again"
            time.sleep(1)
    except BaseException:
        if worker is not None:
            print(worker.log())
        raise
    finally:
        if worker is not None:
            worker.stop()
        topics.close()
        broker.stop()


def wait_measured(topics: Topics, d: Deployment, count: int, timeout: float = 90) -> list[Record]:
    return topics.wait_for(
        d.outcomes,
        lambda rs: (
            len({r.value["subject"] for r in rs if r.type == "cdi.recording.measured"}) >= count
        ),
        timeout=timeout,
        what=f"{count} measurements",
    )
