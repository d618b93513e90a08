"""A worker stopped and started again carries on from its changelog and its committed offsets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.adapters.sql.migrate import upgrade
from tests.support import events as ev
from tests.support.kafka import Record, Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

COUNT = 300
SESSION_TIMEOUT = 10.0  # seconds: CDI_BROKER_SESSION_TIMEOUT in tests/support/worker.py
DUE_IN = 15.0  # seconds from R-DUE's report to its deadline, past the first worker's stop


def overdue_alerts(records: list[Record], subject: str) -> list[Record]:
    return [
        r for r in records if r.type == "cdi.recording.overdue" and r.value["subject"] == subject
    ]


@pytest.mark.parametrize(
    "down_for",
    [
        # Back at once, while the broker still counts the old member in the group.
        pytest.param(0.0, id="within-the-session-timeout"),
        # Down for longer than the session timeout, as after a real outage, so the old
        # member has left the group, and down across R-DUE's deadline.
        pytest.param(SESSION_TIMEOUT + 2, id="past-the-session-timeout"),
    ],
)
def test_a_restarted_worker_recovers_every_incident_and_raises_what_fell_due(
    broker: str, topics: Topics, log_dir: Path, down_for: float
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=2)
        d.create_topics()
        first = WorkerProcess(d, log_dir).start()
        for i in range(COUNT):
            topics.send(d.incidents, f"R-{i}", ev.reported(f"R-{i}", now - timedelta(hours=1)))
        # R-DUE falls due DUE_IN seconds from now: after the first worker has stopped.
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=DUE_IN)
        due_at = time.monotonic() + (due - datetime.now(UTC)).total_seconds()
        topics.send(d.incidents, "R-DUE", ev.reported("R-DUE", due - timedelta(hours=24)))
        topics.flush()
        while first.metric("cdi_events_consumed_total") < COUNT + 1:
            time.sleep(0.3)
        time.sleep(3)  # let the changelog writes and the offset commit happen
        assert first.stop() == 0
        stopped = time.monotonic()
        # The first worker stopped before R-DUE fell due, so the alert is the second's.
        assert datetime.now(UTC) < due, "the first worker took too long to stop"
        assert not overdue_alerts(topics.read(d.alerts), "R-DUE")

        # While it is down: every incident gets its crime record.
        for i in range(COUNT):
            topics.send(d.crime_records, f"R-{i}", ev.recorded(f"C-{i}", [f"R-{i}"], now))
        topics.flush()
        assert len(topics.read(d.crime_records)) == COUNT  # the input is all there
        if down_for:
            # And R-DUE's deadline passes.
            time.sleep(max(0.0, due_at + 1 - time.monotonic()))
        time.sleep(max(0.0, stopped + down_for - time.monotonic()))

        second = WorkerProcess(d, log_dir).start()
        ready_at = time.monotonic()
        try:
            alerts = topics.wait_for(
                d.alerts,
                lambda rs: bool(overdue_alerts(rs, "R-DUE")),
                timeout=60,
                what="the overdue alert of R-DUE",
            )
            raised = time.monotonic()
            # Promptly: on the first ticks after recovery, or after the deadline if that
            # comes later, not at some later sweep (the margin covers this test's polling
            # and a loaded machine).
            assert raised - max(ready_at, due_at) < 10
            (overdue,) = overdue_alerts(alerts, "R-DUE")
            assert overdue.value["data"]["overdue_since"] == ev.stamp(due)
            measured = topics.wait_for(
                d.outcomes,
                lambda rs: sum(r.type == "cdi.recording.measured" for r in rs) >= COUNT,
                timeout=60,
                what="every measurement",
            )
            # Each measurement needs the report, which only the recovered state holds.
            subjects = {r.value["subject"] for r in measured if r.type == "cdi.recording.measured"}
            assert subjects == {f"R-{i}" for i in range(COUNT)}
            assert [r.type for r in alerts if r.value["subject"] == "R-DUE"][-1] == (
                "cdi.recording.overdue"
            )
            # And the worker moves on past them: a hole in a partition's acks would keep
            # its committed offset, and so its lag, where it was for good.
            deadline = time.monotonic() + 20
            while second.metric("cdi_consumer_lag_messages", topic=d.crime_records) > 0:
                assert time.monotonic() < deadline, second.metrics()
                time.sleep(0.5)
        finally:
            second.stop()


BACKLOG = 40_000


def test_a_worker_reading_a_backlog_stops_promptly_and_the_next_carries_on(
    broker: str, topics: Topics, log_dir: Path
) -> None:
    # A rolling deployment stops a worker in the middle of a backlog. Faust clears
    # the stream buffers and waits for every event already taken to be handled;
    # a batch left half-gathered by the clearing once held a worker for over a
    # minute after SIGTERM (until it was killed). That depends on where the agent
    # is when the signal comes, so this is a guard, not a reproduction: the
    # deterministic one is in tests/unit/test_batches.py.
    now = datetime.now(UTC).replace(microsecond=0)
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=2)
        d.create_topics()
        for i in range(BACKLOG):
            topics.send(d.incidents, f"B-{i}", ev.reported(f"B-{i}", now - timedelta(hours=1)))
        topics.flush()
        first = WorkerProcess(d, log_dir).start()
        deadline = time.monotonic() + 60
        while first.metric("cdi_events_consumed_total") < 2_000:
            assert time.monotonic() < deadline, first.log()
            time.sleep(0.2)
        read_before_stop = first.metric("cdi_events_consumed_total")
        stopping = time.monotonic()
        code = first.stop(timeout=60)
        took = time.monotonic() - stopping
        assert read_before_stop < BACKLOG, "the backlog was finished before the stop: no test"
        assert code == 0, first.log()
        assert took < 15, f"took {took:.1f} s to stop:\n{first.log()}"

        second = WorkerProcess(d, log_dir).start()
        try:
            deadline = time.monotonic() + 120
            while second.metric("cdi_consumer_lag_messages", topic=d.incidents) > 0:
                assert time.monotonic() < deadline, second.log()
                time.sleep(0.5)
        finally:
            second.stop()
