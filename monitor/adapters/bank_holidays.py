"""The working-day calendar of England and Wales, from the maintained ``holidays`` package.

Working days are Monday to Friday except the bank holidays of England and
Wales, including substitute days ("observed": Boxing Day moved to Monday
when it falls on a Saturday) and one-off holidays (a state funeral, a
coronation). The package is pinned; upgrading it is how new one-off holidays
arrive.
"""

from __future__ import annotations

from datetime import date

import holidays

# England (ENG) and Wales (WLS) have the same bank holidays today; asking for
# both keeps that true if they ever diverge (a day off in either counts).
_SUBDIVISIONS = ("ENG", "WLS")


class EnglandAndWalesWorkingDays:
    """``is_working_day``: a weekday that is not a bank holiday in England or Wales."""

    def __init__(self) -> None:
        self._calendars = [
            holidays.country_holidays("GB", subdiv=subdivision, observed=True)
            for subdivision in _SUBDIVISIONS
        ]

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        # Membership populates each year on first use.
        return not any(day in calendar for calendar in self._calendars)

    def holiday_name(self, day: date) -> str | None:
        """The bank holiday on ``day``, if any (for messages and tests)."""
        for calendar in self._calendars:
            name = calendar.get(day)
            if name:
                return str(name)
        return None
