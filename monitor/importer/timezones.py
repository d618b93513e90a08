"""Local times without an offset, as exports write them, to instants in UTC.

Exports carry Europe/London wall-clock times. Twice a year that is not a
function: on the last Sunday of March the hour from 01:00 to 02:00 does not
happen (a time in it is rejected: it is a typo or a wrong zone, never
guessed), and on the last Sunday of October the hour from 01:00 to 02:00
happens twice (the mapping's ``repeated_hour`` rule says which occurrence it
is, or rejects the row).

Parsing is the import's hot loop (a year is about a million timestamps), so
formats made only of ``%Y %y %m %d %H %M %S %f`` and literal text are read
with one regular expression and integer arithmetic, and the zone's offset is
looked up once per local day; only the two transition days a year ask
``zoneinfo`` about each time. Other formats (``%b``, ``%p``, ``%z`` ...) go
through ``datetime.strptime``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.importer.mapping import TimeRules

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MICROS = 1_000_000
DAY_SECONDS = 86_400

_FAST = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "H": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
    "f": r"(?P<f>\d{1,6})",
}


class TimeError(ValueError):
    """A value that is not a time the mapping can read; the message says why."""


class LocalTimes:
    """Reads export times by the mapping's rules; ``parse`` gives UTC epoch microseconds."""

    def __init__(self, rules: TimeRules) -> None:
        self.rules = rules
        self.zone: ZoneInfo = rules.zone
        self._readers = [_reader(f) for f in rules.formats]
        # Per local date: days since the epoch, and the zone's offset if it holds all day.
        self._days: dict[tuple[int, int, int], tuple[int, int | None]] = {}

    def parse(self, text: str) -> int:
        for read in self._readers:
            fields = read(text)
            if fields is not None:
                break
        else:
            formats = " or ".join(repr(f) for f in self.rules.formats)
            raise TimeError(f"{text[:40]!r} is not a time in the format {formats}")
        if isinstance(fields, datetime):
            return _micros(fields.astimezone(UTC))
        year, month, day, hour, minute, second, micro = fields
        if hour > 23 or minute > 59 or second > 59:
            raise TimeError(f"{text[:40]!r} is not a valid time of day")
        known = self._days.get((year, month, day))
        if known is None:
            try:
                days = date(year, month, day).toordinal() - EPOCH_ORDINAL
            except ValueError:
                raise TimeError(f"{text[:40]!r} is not a valid date") from None
            known = self._days[year, month, day] = (days, self._steady_offset(days))
        days, offset = known
        local = days * DAY_SECONDS + hour * 3600 + minute * 60 + second
        if offset is None:
            return self._on_a_transition_day(year, month, day, hour, minute, second, micro, text)
        return (local - offset) * MICROS + micro

    def _steady_offset(self, days: int) -> int | None:
        """The zone's offset in seconds on a local day without a clock change, else None."""
        start = datetime.fromordinal(days + EPOCH_ORDINAL)
        first = start.replace(tzinfo=self.zone).utcoffset()
        last = (start + timedelta(hours=23, minutes=59, seconds=59)).replace(tzinfo=self.zone)
        if first is None or first != last.utcoffset():
            return None
        return int(first.total_seconds())

    def _on_a_transition_day(
        self, year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int,
        text: str,
    ) -> int:  # fmt: skip
        wall = datetime(year, month, day, hour, minute, second, micro)
        first = wall.replace(tzinfo=self.zone, fold=0)
        second_ = wall.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() == second_.utcoffset():
            return _micros(first.astimezone(UTC))
        earlier, later = sorted((first.astimezone(UTC), second_.astimezone(UTC)))
        if earlier.astimezone(self.zone).replace(tzinfo=None) != wall:
            # Neither instant shows this wall time: the clocks jumped over it.
            raise TimeError(
                f"{text[:40]!r} does not exist in {self.zone.key}: the clocks went forward "
                f"on {wall:%d %b %Y} and skipped it"
            )
        rule = self.rules.repeated_hour
        if rule == "reject":
            raise TimeError(
                f"{text[:40]!r} happened twice in {self.zone.key} (the clocks went back on "
                f'{wall:%d %b %Y}) and the mapping\'s repeated_hour is "reject"'
            )
        return _micros(earlier if rule == "earlier" else later)


def _micros(moment: datetime) -> int:
    seconds = int((moment - _EPOCH).total_seconds() // 1)
    return seconds * MICROS + moment.microsecond


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Fields = tuple[int, int, int, int, int, int, int]


def _reader(fmt: str) -> Callable[[str], Fields | datetime | None]:
    """A function from text to (Y, m, d, H, M, S, micro), an aware datetime, or None."""
    parts = re.split(r"(%.)", fmt)
    directives = [p[1] for p in parts if p.startswith("%") and len(p) == 2]
    if all(d in _FAST or d == "%" for d in directives) and len(set(directives)) == len(directives):
        pattern = "".join(
            _FAST[p[1]] if p.startswith("%") and p[1] in _FAST else re.escape(p.replace("%%", "%"))
            for p in parts
        )
        matcher = re.compile(pattern + r"\Z").match
        names = [p[1] for p in parts if p.startswith("%") and p[1] in _FAST]
        if sorted(names) == sorted("YmdHMS"):
            # The usual case, without the lookups of the general one below.
            y, mo, d, h, mi, sec = (names.index(k) for k in "YmdHMS")

            def full(text: str) -> Fields | None:
                found = matcher(text)
                if found is None:
                    return None
                g = found.groups()
                return (int(g[y]), int(g[mo]), int(g[d]), int(g[h]), int(g[mi]), int(g[sec]), 0)

            return full

        def fast(text: str) -> Fields | None:
            found = matcher(text)
            if found is None:
                return None
            g = found.groupdict()
            year = int(g["Y"]) if "Y" in g else _century(int(g.get("y") or 0))
            fraction = g.get("f")
            return (
                year,
                int(g.get("m") or 1),
                int(g.get("d") or 1),
                int(g.get("H") or 0),
                int(g.get("M") or 0),
                int(g.get("S") or 0),
                int(fraction.ljust(6, "0")) if fraction else 0,
            )

        return fast

    def slow(text: str) -> Fields | datetime | None:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return parsed
        return (
            parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
            parsed.microsecond,
        )  # fmt: skip

    return slow


def _century(two_digits: int) -> int:
    """strptime's rule for ``%y``: 69-99 are 1969-1999, 00-68 are 2000-2068."""
    return (1900 if two_digits >= 69 else 2000) + two_digits


def rfc3339(micros: int) -> str:
    """UTC text for epoch microseconds, as the event contract writes it (``...Z``)."""
    seconds, micro = divmod(micros, MICROS)
    hours, rest = divmod(seconds, 3600)
    prefix = _HOURS.get(hours)
    if prefix is None:
        if len(_HOURS) > 50_000:
            _HOURS.clear()
        prefix = _HOURS[hours] = datetime.fromtimestamp(hours * 3600, UTC).strftime("%Y-%m-%dT%H:")
    minute, second = divmod(rest, 60)
    if micro:
        return f"{prefix}{minute:02d}:{second:02d}.{micro:06d}Z"
    return f"{prefix}{minute:02d}:{second:02d}Z"


_HOURS: dict[int, str] = {}
