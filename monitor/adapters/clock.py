"""Clocks for the edges of the system. The domain never reads one: it is given ``now``.

``AcceleratedClock`` lets the demo and the simulator run a day in minutes:
every process given the same origin and rate agrees on the simulated time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def seconds_until(self, moment: datetime) -> float:
        """Real seconds to wait until ``moment`` on this clock (0 if it has passed)."""


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def seconds_until(self, moment: datetime) -> float:
        return max((moment - self.now()).total_seconds(), 0.0)

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass(frozen=True)
class AcceleratedClock:
    """Simulated time that runs ``rate`` times faster than the wall clock.

    At the real instant ``origin`` the simulated time equals ``origin``; after
    ``s`` real seconds it is ``origin + rate * s``.
    """

    origin: datetime
    rate: float

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("the clock rate must be positive")
        if self.origin.tzinfo is None:
            raise ValueError("the clock origin must be timezone-aware")

    def now(self) -> datetime:
        real = time.time() - self.origin.timestamp()
        return self.origin + timedelta(seconds=real * self.rate)

    def seconds_until(self, moment: datetime) -> float:
        return max((moment - self.now()).total_seconds() / self.rate, 0.0)


def make_clock(rate: float = 1.0, origin: datetime | None = None) -> Clock:
    """The system clock at rate 1 with no origin; otherwise an accelerated clock."""
    if rate == 1.0 and origin is None:
        return SystemClock()
    return AcceleratedClock(origin=origin or datetime.now(UTC), rate=rate)
