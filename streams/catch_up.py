"""Whether the worker is catching up on a backlog, how fast, and when it will be done.

After an outage, a deployment or a rebuild under a new ``CDI_APP_ID``, the
worker reads a backlog before its alerts are live again. Its lag is what the
broker holds on the input partitions it owns that it has not read yet (the
same figure as ``cdi_consumer_lag``); its rate is how fast the lag of those
partitions has been falling, over the last minute at most; the time left is
the lag at that rate. ``/health`` and ``/ready`` show the three, and while the
lag is over ``CATCHING_UP_EVENTS`` the worker logs its progress every
``LOG_EVERY_SECONDS``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faust.types import TP

from monitor.adapters.kafka.topology import Topology
from streams.progress import ConsumerProgress

log = logging.getLogger(__name__)

CATCHING_UP_EVENTS = 1_000
LOG_EVERY_SECONDS = 10.0
_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class CatchUpStatus:
    lag: int | None
    """Input events held by the broker that this worker has not read; None before it knows."""
    events_per_second: float | None
    seconds_left: float | None

    @property
    def catching_up(self) -> bool:
        return self.lag is not None and self.lag > CATCHING_UP_EVENTS

    def as_json(self) -> dict[str, Any]:
        return {
            "catching_up": self.catching_up,
            "lag_events": self.lag,
            "events_per_second": None
            if self.events_per_second is None
            else round(self.events_per_second, 1),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
        }


class CatchUp:
    def __init__(
        self,
        progress: ConsumerProgress,
        topology: Topology,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.progress = progress
        self.topics = (topology.incidents, topology.crime_records)
        self.monotonic = monotonic
        self._read: deque[tuple[float, int]] = deque()
        # Each owned input's position when this catch-up first saw it: what has been
        # read since then is the progress, whoever asked first (/ready, /health, the log).
        self._first_position: dict[TP, int] = {}
        self._logged = False

    def _lag_and_read(self) -> tuple[int | None, int, int]:
        """The owned inputs' lag, how far they have been read (the sum of positions),
        and how many events were read since this catch-up first saw each of them."""
        lag, read, since, known = 0, 0, 0, False
        owned = set()
        for topic in self.topics:
            for tp in self.progress.assigned(topic):
                tp_lag = self.progress.lag(tp)
                if tp_lag is None:
                    continue
                known = True
                owned.add(tp)
                position = self.progress.position(tp)
                lag += tp_lag
                read += position
                since += position - self._first_position.setdefault(tp, position)
        for tp in self._first_position.keys() - owned:
            del self._first_position[tp]  # a rebalance took it away
        return (lag if known else None), read, since

    def status(self) -> CatchUpStatus:
        return self._status()[0]

    def _status(self) -> tuple[CatchUpStatus, int]:
        """The status, and the events read since the backlog was first seen."""
        now = self.monotonic()
        lag, read, since = self._lag_and_read()
        samples = self._read
        if samples and read < samples[-1][1]:
            samples.clear()  # a rebalance took partitions away: start the rate again
        samples.append((now, read))
        while len(samples) > 2 and now - samples[0][0] > _WINDOW_SECONDS:
            samples.popleft()
        rate = None
        if len(samples) >= 2 and now > samples[0][0]:
            rate = (samples[-1][1] - samples[0][1]) / (now - samples[0][0])
        left = None
        if lag is not None and rate:
            left = lag / rate
        elif lag == 0:
            left = 0.0
        status = CatchUpStatus(lag, rate, left)
        if not status.catching_up and lag is not None:
            self._first_position.clear()  # caught up: the next backlog is counted afresh
        return status, since

    def log_progress(self) -> None:
        """One line of progress while catching up (called every ``LOG_EVERY_SECONDS``)."""
        status, since = self._status()
        if not status.catching_up:
            if self._logged:
                log.info("caught up: input lag %s events", status.lag)
            self._logged = False
            return
        assert status.lag is not None  # noqa: S101 - catching_up says so
        self._logged = True
        backlog = status.lag + since  # what was behind when first seen, and what came since
        done = since / backlog
        rate = (
            "measuring"
            if status.events_per_second is None
            else (f"{status.events_per_second:,.0f} events/s")
        )
        left = "unknown" if status.seconds_left is None else f"about {status.seconds_left:,.0f} s"
        log.info(
            "catching up: %s events behind (%.0f%% of %s done), %s, %s left",
            f"{status.lag:,}",
            100 * done,
            f"{backlog:,}",
            rate,
            left,
        )
