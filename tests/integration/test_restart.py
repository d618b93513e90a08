"""A worker stopped and started again carries on from its changelog and its committed offsets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.adapters.sql.migrate import upgrade
from tests.support import events as ev
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

COUNT = 300


def test_a_restarted_worker_recovers_every_incident_and_raises_what_fell_due_while_it_was_down(
    broker: str, topics: Topics, log_dir: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    deadline_soon = now - timedelta(hours=24) + timedelta(seconds=40)
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=2)
        d.create_topics()
        first = WorkerProcess(d, log_dir).start()
        for i in range(COUNT):
            topics.send(d.incidents, f"R-{i}", ev.reported(f"R-{i}", now - timedelta(hours=1)))
        topics.send(d.incidents, "R-DUE", ev.reported("R-DUE", deadline_soon - timedelta(hours=24)))
        topics.flush()
        while first.metric("cdi_events_consumed_total") < COUNT + 1:
            time.sleep(0.3)
        time.sleep(3)  # let the changelog writes and the offset commit happen
        assert first.stop() == 0
        stopped = time.monotonic()

        # While it is down: every incident gets its crime record, and R-DUE's deadline passes.
        for i in range(COUNT):
            topics.send(d.crime_records, f"R-{i}", ev.recorded(f"C-{i}", [f"R-{i}"], now))
        topics.flush()
        assert len(topics.read(d.crime_records)) == COUNT  # the input is all there
        time.sleep(max(0.0, (deadline_soon - datetime.now(UTC)).total_seconds() + 1))
        # Down for longer than the session timeout (10 s), as after a real outage, so the
        # old member has left the group. A restart within it is still not reliable on the
        # embedded broker: see README, "Faults and bad input".
        time.sleep(max(0.0, stopped + 12 - time.monotonic()))

        started = time.monotonic()
        second = WorkerProcess(d, log_dir).start()
        ready_at = time.monotonic()
        try:
            alerts = topics.wait_for(
                d.alerts,
                lambda rs: any(
                    r.type == "cdi.recording.overdue" and r.value["subject"] == "R-DUE" for r in rs
                ),
                timeout=30,
                what="the overdue alert of R-DUE",
            )
            assert time.monotonic() - started < 30
            # Promptly: on the first ticks after recovery, not at some later sweep
            # (the margin covers this test's polling and a loaded machine).
            assert time.monotonic() - ready_at < 10
            (overdue,) = [
                r
                for r in alerts
                if r.type == "cdi.recording.overdue" and r.value["subject"] == "R-DUE"
            ]
            assert overdue.value["data"]["overdue_since"] == ev.stamp(deadline_soon)
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
