"""The recording target and the warning point an alert is raised at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from monitor.domain.referral import ReferralPolicy

NCRS_RECORDING_TARGET = timedelta(hours=24)
"""National Crime Recording Standard: record within 24 hours of the report."""


@dataclass(frozen=True, slots=True)
class TimelinessPolicy:
    """How long a force has to record a crime-related incident, and when to warn.

    - ``target``: the recording deadline is ``reported_at + target`` (24 h).
    - ``warning``: a due-soon alert is raised once the time remaining falls
      below this (4 h by default).
    - ``retention``: how long, in event time, a settled incident is kept in the
      live state after its last event, in case a late event still refers to it.
    - ``referrals``: how victim-support referrals are timed and consented;
      None announces no referrals.
    """

    target: timedelta = NCRS_RECORDING_TARGET
    warning: timedelta = timedelta(hours=4)
    retention: timedelta = timedelta(days=35)
    referrals: ReferralPolicy | None = None

    def __post_init__(self) -> None:
        if self.target <= timedelta(0):
            raise ValueError("the recording target must be positive")
        if not timedelta(0) <= self.warning < self.target:
            raise ValueError("the warning must be at least 0 and shorter than the target")
        if self.retention <= timedelta(0):
            raise ValueError("the state retention must be positive")
