"""Working days: the unit the Victims' Code counts referral windows in.

Which days are working days is a calendar passed in (weekends and the bank
holidays of England and Wales in production, see
``monitor.adapters.bank_holidays``), so the rules stay pure and testable with
any calendar.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

# Even a calendar with a long shutdown has a working day within a year; a
# calendar with none is a configuration error, not a reason to loop forever.
_LONGEST_SEARCH = timedelta(days=366)


class WorkingDayCalendar(Protocol):
    def is_working_day(self, day: date) -> bool:
        """True for a day on which victim services work (not a weekend or bank holiday)."""
        ...


class WeekdaysOnly:
    """Monday to Friday, with no holidays: for tests and as the simplest calendar."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


def next_working_day(day: date, calendar: WorkingDayCalendar) -> date:
    """The first working day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not calendar.is_working_day(candidate):
        if candidate - day > _LONGEST_SEARCH:
            raise ValueError(f"no working day within a year after {day}: check the calendar")
        candidate += timedelta(days=1)
    return candidate


def add_working_days(day: date, count: int, calendar: WorkingDayCalendar) -> date:
    """The ``count``-th working day after ``day``; ``day`` itself never counts.

    Reported on Monday, 2 working days later is Wednesday; reported on Friday
    or over the weekend, it is Tuesday (Wednesday after a bank-holiday Monday).
    """
    if count < 0:
        raise ValueError("count must not be negative")
    for _ in range(count):
        day = next_working_day(day, calendar)
    return day
