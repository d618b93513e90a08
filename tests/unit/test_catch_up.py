"""How far behind the worker is, how fast it catches up, and what it says about it."""

from __future__ import annotations

import logging

import pytest
from faust.types import TP

from monitor.adapters.kafka.topology import Topology
from streams.catch_up import CatchUp

TOPOLOGY = Topology("in", "crimes", "l", "g", "o", "a", "d", partitions=2, crime_partitions=1)


class Progress:
    """Stands in for the consumer's progress: positions and highwaters per partition."""

    def __init__(self) -> None:
        self.highwaters = {TP("in", 0): 6000, TP("in", 1): 4000, TP("crimes", 0): 2000}
        self.positions = dict.fromkeys(self.highwaters, 0)

    def assigned(self, topic: str) -> list[TP]:
        return [tp for tp in self.highwaters if tp.topic == topic]

    def lag(self, tp: TP) -> int:
        return self.highwaters[tp] - self.positions[tp]

    def position(self, tp: TP) -> int:
        return self.positions[tp]

    def read(self, count: int) -> None:
        for tp in self.positions:
            step = min(count, self.highwaters[tp] - self.positions[tp])
            self.positions[tp] += step


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def logged(caplog: pytest.LogCaptureFixture) -> tuple[Progress, Clock, CatchUp]:
    """A catch-up on a stand-in consumer and clock, its log lines captured."""
    progress, clock = Progress(), Clock()
    caplog.set_level(logging.INFO, logger="streams.catch_up")
    return progress, clock, CatchUp(progress, TOPOLOGY, monotonic=clock)  # type: ignore[arg-type]


def test_the_lag_rate_and_time_left_come_from_the_owned_inputs() -> None:
    progress, clock = Progress(), Clock()
    catch_up = CatchUp(progress, TOPOLOGY, monotonic=clock)  # type: ignore[arg-type]
    first = catch_up.status()
    assert first.lag == 12_000 and first.events_per_second is None and first.catching_up
    clock.now, _ = 10.0, progress.read(1000)  # 3,000 events in 10 s
    status = catch_up.status()
    assert status.lag == 9_000
    assert status.events_per_second == pytest.approx(300.0)
    assert status.seconds_left == pytest.approx(30.0)
    assert status.as_json() == {
        "catching_up": True,
        "lag_events": 9000,
        "events_per_second": 300.0,
        "seconds_left": 30.0,
    }


def test_caught_up_is_said_once_and_then_nothing(caplog: pytest.LogCaptureFixture) -> None:
    progress, clock, catch_up = logged(caplog)
    catch_up.log_progress()
    clock.now, _ = 10.0, progress.read(1000)
    catch_up.log_progress()
    clock.now, _ = 20.0, progress.read(10_000)
    catch_up.log_progress()
    catch_up.log_progress()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("catching up: 12,000 events behind (0% of 12,000 done)")
    assert lines[1] == (
        "catching up: 9,000 events behind (25% of 12,000 done), 300 events/s, about 30 s left"
    )
    assert lines[2:] == ["caught up: input lag 0 events"]
    assert not catch_up.status().catching_up


def test_a_worker_that_does_not_know_its_lag_yet_says_so() -> None:
    progress = Progress()
    progress.lag = lambda tp: None  # type: ignore[assignment,return-value]
    status = CatchUp(progress, TOPOLOGY).status()  # type: ignore[arg-type]
    assert status.lag is None and not status.catching_up and status.seconds_left is None


def test_progress_counts_from_when_the_backlog_was_first_seen_by_anyone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress, clock, catch_up = logged(caplog)
    catch_up.status()  # /ready asked at start-up, before anything was read
    clock.now, _ = 10.0, progress.read(1000)  # the first log line comes 10 s later
    catch_up.log_progress()
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("catching up: 9,000 events behind (25% of 12,000 done)")


def test_a_partition_gained_in_a_rebalance_counts_only_what_is_read_of_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress, clock, catch_up = logged(caplog)
    catch_up.log_progress()
    gained = TP("in", 2)  # another worker had read 5,000 of its 8,000
    progress.highwaters[gained], progress.positions[gained] = 8000, 5000
    clock.now, _ = 10.0, progress.read(1000)  # 3,000 read of the first three, 1,000 of it
    catch_up.log_progress()
    lines = [r.getMessage() for r in caplog.records]
    # Behind: 9,000 + 2,000; read since first seen: 3,000 + 0 (it was first seen just now).
    assert lines[1].startswith("catching up: 11,000 events behind (21% of 14,000 done)")
    del progress.highwaters[gained], progress.positions[gained]
    clock.now = 20.0
    catch_up.log_progress()
    last = caplog.records[-1].getMessage()
    assert last.startswith("catching up: 9,000 events behind (25% of 12,000 done)")
