"""Timeliness from the ledger itself: a census of the period, not a sample.

For the crime-related incidents reported in the period: how many were recorded,
the share of those recorded within the target (24 hours; exactly 24 h is in
time, as in the rules), and the median and 90th percentile of the delay from
report to record, in seconds. Percentiles interpolate linearly between the
nearest ranks (numpy's default, PostgreSQL's ``percentile_cont``).
``unrecorded_past_deadline`` counts those with no record, not closed without a
crime, whose deadline has passed: they are not in the share until recorded.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ALL = "all"


@dataclass(frozen=True, slots=True)
class CensusIncident:
    category: str
    division: str
    reported_at: datetime
    elapsed_seconds: float | None  # None: not recorded
    within_target: bool | None
    unrecorded_past_deadline: bool = False


@dataclass(frozen=True, slots=True)
class Timeliness:
    group: str
    recorded: int
    within_target: int
    median_seconds: float | None
    p90_seconds: float | None
    unrecorded_past_deadline: int

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.recorded if self.recorded else None


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile with linear interpolation between closest ranks."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    if fraction == 0.5:
        return statistics.median(values)
    return cuts[round(fraction * 100) - 1]


def summarise(group: str, incidents: Iterable[CensusIncident]) -> Timeliness:
    items = list(incidents)
    delays = sorted(i.elapsed_seconds for i in items if i.elapsed_seconds is not None)
    return Timeliness(
        group=group,
        recorded=len(delays),
        within_target=sum(1 for i in items if i.within_target),
        median_seconds=percentile(delays, 0.5),
        p90_seconds=percentile(delays, 0.9),
        unrecorded_past_deadline=sum(i.unrecorded_past_deadline for i in items),
    )


def census(
    incidents: Iterable[CensusIncident], key: Callable[[CensusIncident], str]
) -> list[Timeliness]:
    """One line per group, by name, then the whole (``all``)."""
    items = list(incidents)
    groups: dict[str, list[CensusIncident]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    lines = [summarise(name, groups[name]) for name in sorted(groups)]
    return [*lines, summarise(ALL, items)]


def week_of(moment: datetime, zone: ZoneInfo) -> date:
    """The Monday of the week (in ``zone``) that ``moment`` falls in."""
    day = moment.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def by_category(incidents: Iterable[CensusIncident]) -> list[Timeliness]:
    return census(incidents, lambda i: i.category)


def by_division(incidents: Iterable[CensusIncident]) -> list[Timeliness]:
    return census(incidents, lambda i: i.division)


def by_week(incidents: Iterable[CensusIncident], zone: ZoneInfo) -> list[Timeliness]:
    """Per week of the report (``YYYY-MM-DD``, the Monday), then the whole."""
    return census(incidents, lambda i: week_of(i.reported_at, zone).isoformat())
