"""Reporting periods: a month (``2026-11``), a run of months (``2026-04..2026-06``), a run
of days (``2026-11-01..2026-11-14``, both days included) or the last 30 days.

Days start at midnight in the force's time zone (Europe/London by default), so a
period follows British Summer Time. ``start`` and ``end`` are aware UTC times,
``end`` excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _month(text: str) -> date:
    match = _MONTH.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a month like 2026-11")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r}: the month must be 01 to 12")
    return date(year, month, 1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _day(text: str) -> date:
    if not _DAY.match(text):
        raise ValueError(f"{text!r} is not a day like 2026-11-01")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid day: {exc}") from None


def parse_period(text: str, zone: ZoneInfo) -> Period:
    """The period a user typed; a clear ``ValueError`` when it is none of the forms."""
    text = text.strip()
    first, sep, last = text.partition("..")
    if not sep:
        last = first
    if _MONTH.match(first) or _MONTH.match(last):
        start, end = _month(first), _next_month(_month(last))
    elif _DAY.match(first) or _DAY.match(last):
        start, end = _day(first), _day(last) + timedelta(days=1)
    else:
        raise ValueError(
            f"{text!r} is not a period: use a month (2026-11), months (2026-04..2026-06) "
            "or days (2026-11-01..2026-11-14)"
        )
    if end <= start:
        raise ValueError(f"{text!r}: the period ends before it starts")
    return Period(text, _midnight(start, zone), _midnight(end, zone))


def last_days(now: datetime, zone: ZoneInfo, days: int = 30) -> Period:
    """The ``days`` whole days before today (in ``zone``), today excluded."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days)
    label = f"{first.isoformat()}..{(today - timedelta(days=1)).isoformat()}"
    return Period(label, _midnight(first, zone), _midnight(today, zone))


def previous_month(now: datetime, zone: ZoneInfo) -> Period:
    """The last whole calendar month before ``now``."""
    this_month = now.astimezone(zone).date().replace(day=1)
    first = (this_month - timedelta(days=1)).replace(day=1)
    return parse_period(f"{first:%Y-%m}", zone)
