"""Today's figures per division: recorded within 24 hours, late, overdue now, median delay.

"Today" is the calendar day of ``now`` in the board's time zone (Europe/London
by default, so it follows British Summer Time). A recording counts on the day
it was recorded (``recorded_at``), once per incident: the earliest recording of
an incident is the one that counts, as in the rules. The delay is report to
recording, in seconds. "Overdue now" is the open overdue alerts at ``now``.
These are the events the metrics count (``cdi_recordings_total`` by outcome,
``cdi_recording_delay_seconds``), restricted to today.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.application.board.view import AlertLine, division_of
from schemas.output_events import Measured

ALL_DIVISIONS = "all"


@dataclass(frozen=True)
class DivisionFigures:
    division: str
    recorded_within_target: int
    recorded_late: int
    overdue_now: int
    median_delay_seconds: float | None


def today(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of ``now``'s calendar day in ``zone``, as aware times.

    A day is 23 or 25 hours long when the clocks change.
    """
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    # In UTC: arithmetic between times of one zone would ignore the change of offset.
    return start.astimezone(UTC), end.astimezone(UTC)


def _figures(division: str, rows: list[Measured], overdue: int) -> DivisionFigures:
    return DivisionFigures(
        division=division,
        recorded_within_target=sum(1 for m in rows if m.within_target),
        recorded_late=sum(1 for m in rows if not m.within_target),
        overdue_now=overdue,
        median_delay_seconds=statistics.median(m.elapsed_seconds for m in rows) if rows else None,
    )


def daily_figures(
    measured: Iterable[Measured], open_alerts: Iterable[AlertLine], now: datetime, zone: ZoneInfo
) -> list[DivisionFigures]:
    """One line per division seen today or overdue now (by name), then the total (``all``)."""
    start, end = today(now, zone)
    todays = [m for m in measured if start <= m.recorded_at < end]
    by_division: dict[str, list[Measured]] = defaultdict(list)
    for m in todays:
        by_division[division_of(m.report)].append(m)
    overdue: dict[str, int] = defaultdict(int)
    for line in open_alerts:
        if line.state == "overdue":
            overdue[division_of(line.report)] += 1
    names = sorted(set(by_division) | set(overdue))
    lines = [_figures(name, by_division[name], overdue[name]) for name in names]
    lines.append(_figures(ALL_DIVISIONS, todays, sum(overdue.values())))
    return lines


def figures_json(lines: list[DivisionFigures], now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "day": now.astimezone(zone).date().isoformat(),
        "time_zone": zone.key,
        "divisions": [asdict(x) for x in lines],
    }
