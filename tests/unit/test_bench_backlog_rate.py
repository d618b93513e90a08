"""The bench's pipeline rate is measured even when the worker reads its backlog in a blink.

A worker that handles a small backlog between two polls used to leave one sample,
and the bench printed 0 events/s. Sampling now starts at the worker's first
``/metrics`` answer, before it is ready, on a virtual clock here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.devtools.bench import command
from monitor.devtools.bench.command import _backlog_samples, _moving


class VirtualTime:
    """``time.monotonic`` and ``time.sleep`` for the sampler, without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class QuickWorker:
    """Not listening for 5 s, ready at 7 s, then 3,000 events in 0.3 s (10,000 events/s)."""

    log_path = Path("worker.log")

    def __init__(self, clock: VirtualTime, produced: int = 3000) -> None:
        self.clock = clock
        self.produced = produced

    def check_running(self) -> None:
        return None

    def consumed(self) -> float:
        t = self.clock.now
        if t < 5.0:
            raise ConnectionRefusedError("not listening yet")
        return float(min(self.produced, max(0.0, (t - 7.0) * 10_000)))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    virtual = VirtualTime()
    monkeypatch.setattr(command, "time", virtual)
    return virtual


def test_a_backlog_read_faster_than_a_ready_poll_still_gives_its_rate(clock: VirtualTime) -> None:
    samples, done = _backlog_samples(QuickWorker(clock), 3000, seconds=60)
    events, seconds = _moving(samples)
    assert done
    assert events == 3000
    # The true 0.3 s, give or take one 50 ms poll at each end.
    assert 0.25 <= seconds <= 0.40
    assert 7_500 <= events / seconds <= 12_000


def test_the_time_limit_counts_from_the_first_event_not_from_start_up(clock: VirtualTime) -> None:
    samples, done = _backlog_samples(QuickWorker(clock, produced=10**9), 10**9, seconds=30)
    assert not done
    events, seconds = _moving(samples)
    # Moving from about 7 s; the last sample is taken when the 30 s are up.
    assert 29.9 <= seconds <= 30.2
    assert events == pytest.approx(seconds * 10_000, rel=0.01)


def test_a_worker_that_never_answers_is_an_error_not_a_zero(clock: VirtualTime) -> None:
    class Silent(QuickWorker):
        def consumed(self) -> float:
            raise ConnectionRefusedError("never listening")

    with pytest.raises(RuntimeError, match="never answered /metrics"):
        _backlog_samples(Silent(clock), 3000, seconds=60, startup_s=10)


def test_samples_that_never_show_the_count_moving_give_no_rate() -> None:
    assert _moving([(1.0, 3000.0)]) == (0.0, 0.0)
    assert _moving([(1.0, 0.0), (2.0, 0.0)]) == (0.0, 0.0)
