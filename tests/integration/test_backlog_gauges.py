"""The backlog gauges are right with several workers, after a rebalance and after a restart.

Each worker reports only the partitions it owns, so the sum over the running
workers must equal what was sent, whichever worker owns what, and a worker
started afresh must report it again from the changelog.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.adapters.sql.migrate import upgrade
from tests.support import events as ev
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

DIVISION = "gauge_test_division"
OVERDUE, AWAITING_IN_TIME, RECORDED = 12, 8, 5
TRUTH = (OVERDUE, OVERDUE + AWAITING_IN_TIME, 4)  # overdue, awaiting, partitions owned


def totals(workers: list[WorkerProcess]) -> tuple[float, float, float]:
    return (
        sum(w.metric("cdi_incidents_overdue", division=DIVISION) for w in workers),
        sum(w.metric("cdi_incidents_awaiting_recording", division=DIVISION) for w in workers),
        sum(w.metric("cdi_assigned_partitions") for w in workers),
    )


def until(what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def test_the_backlog_gauges_sum_to_the_truth_across_workers_rebalances_and_restarts(
    broker: str, topics: Topics, log_dir: Path, start_worker: Callable[..., WorkerProcess]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with fresh_postgres_database() as url:
        upgrade(url)
        d = Deployment(bootstrap=broker, database_url=url, partitions=4)
        d.create_topics()
        first = start_worker(d)
        for i in range(OVERDUE):
            topics.send(
                d.incidents,
                f"G-O{i}",
                ev.reported(f"G-O{i}", now - timedelta(hours=30), division=DIVISION),
            )
        for i in range(AWAITING_IN_TIME):
            topics.send(
                d.incidents,
                f"G-A{i}",
                ev.reported(f"G-A{i}", now - timedelta(hours=1), division=DIVISION),
            )
        for i in range(RECORDED):
            topics.send(
                d.incidents,
                f"G-R{i}",
                ev.reported(f"G-R{i}", now - timedelta(hours=30), division=DIVISION),
            )
            topics.send(
                d.crime_records,
                f"G-R{i}",
                ev.recorded(f"C-R{i}", [f"G-R{i}"], now - timedelta(hours=29)),
            )
        topics.flush()
        until("one worker's gauges", lambda: totals([first]) == TRUTH)

        second = start_worker(d)
        until(
            "the partitions shared by two workers, the gauges summing to the truth",
            lambda: (
                first.metric("cdi_assigned_partitions") > 0
                and second.metric("cdi_assigned_partitions") > 0
                and totals([first, second]) == TRUTH
            ),
        )
        assert 0 < totals([second])[1] < TRUTH[1]  # each reports only its own partitions

        assert first.stop() == 0
        until("the remaining worker taking everything over", lambda: totals([second]) == TRUTH)

        assert second.stop() == 0
        third = start_worker(d)
        until("a fresh worker recomputing from the changelog", lambda: totals([third]) == TRUTH)
