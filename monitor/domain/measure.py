"""Measuring how long a recording took against the target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The time from report to recording, judged against the target.

    ``elapsed`` is never negative: a recording stamped before its report is a
    data-quality error, kept as ``recorded_before_report`` and measured as 0.
    """

    elapsed: timedelta
    target: timedelta
    within_target: bool
    recorded_before_report: bool

    @property
    def elapsed_seconds(self) -> float:
        return self.elapsed.total_seconds()


def measure(reported_at: datetime, recorded_at: datetime, target: timedelta) -> Measurement:
    """Elapsed = ``recorded_at - reported_at``; within target when elapsed <= target.

    Exactly 24 h is in time; 24 h and 1 s is late.
    """
    raw = recorded_at - reported_at
    before = raw < _ZERO
    elapsed = _ZERO if before else raw
    return Measurement(
        elapsed=elapsed,
        target=target,
        within_target=elapsed <= target,
        recorded_before_report=before,
    )
