"""Export times are Europe/London wall-clock times: the clock changes of 2025 and 2026.

Spring (last Sunday of March, 01:00 GMT becomes 02:00 BST): 01:00-01:59 never
happens, so such a time is rejected. Autumn (last Sunday of October, 02:00 BST
becomes 01:00 GMT): 01:00-01:59 happens twice, and the mapping's rule says
which occurrence a time is, or rejects it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.importer.mapping import TimeRules
from monitor.importer.timezones import MICROS, LocalTimes, TimeError, rfc3339

LONDON = ZoneInfo("Europe/London")
FORMAT = "%d/%m/%Y %H:%M:%S"


def times(rule: str = "reject", *formats: str) -> LocalTimes:
    return LocalTimes(TimeRules(formats or (FORMAT,), LONDON, rule))  # type: ignore[arg-type]


def utc(text: str) -> str:
    return rfc3339(times("earlier").parse(text))


def at(rule: str, text: str) -> str:
    return rfc3339(times(rule).parse(text))


SPRING = {2025: "30/03/2025", 2026: "29/03/2026"}
AUTUMN = {2025: "26/10/2025", 2026: "25/10/2026"}


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("clock", ["01:00:00", "01:30:00", "01:59:59"])
def test_a_time_in_the_hour_skipped_in_spring_is_rejected_never_guessed(year, clock) -> None:
    for rule in ("earlier", "later", "reject"):
        with pytest.raises(TimeError, match="does not exist in Europe/London"):
            times(rule).parse(f"{SPRING[year]} {clock}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/03/2025 00:59:59", "2025-03-30T00:59:59Z"),  # GMT: the last second before
        ("30/03/2025 02:00:00", "2025-03-30T01:00:00Z"),  # BST: the first second after
        ("30/03/2025 12:00:00", "2025-03-30T11:00:00Z"),
        ("29/03/2025 12:00:00", "2025-03-29T12:00:00Z"),
        ("29/03/2026 00:59:59", "2026-03-29T00:59:59Z"),
        ("29/03/2026 02:00:00", "2026-03-29T01:00:00Z"),
        ("30/03/2026 09:15:00", "2026-03-30T08:15:00Z"),
    ],
)
def test_times_around_the_spring_change_read_in_the_offset_of_their_moment(text, expected) -> None:
    assert utc(text) == expected


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("clock", ["01:00:00", "01:30:00", "01:59:59"])
def test_the_repeated_autumn_hour_follows_the_mappings_rule(year, clock) -> None:
    text = f"{AUTUMN[year]} {clock}"
    day = datetime.strptime(AUTUMN[year], "%d/%m/%Y").replace(tzinfo=UTC)
    wall = timedelta(hours=int(clock[:2]), minutes=int(clock[3:5]), seconds=int(clock[6:]))
    # The first occurrence is BST (UTC+1), the second GMT: an hour apart.
    assert at("earlier", text) == rfc3339(
        int((day + wall - timedelta(hours=1)).timestamp()) * MICROS
    )
    assert at("later", text) == rfc3339(int((day + wall).timestamp()) * MICROS)
    with pytest.raises(TimeError, match=r'happened twice.*repeated_hour is "reject"'):
        times("reject").parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26/10/2025 00:59:59", "2025-10-25T23:59:59Z"),  # BST, before the repeated hour
        ("26/10/2025 02:00:00", "2025-10-26T02:00:00Z"),  # GMT, after it
        ("25/10/2025 23:00:00", "2025-10-25T22:00:00Z"),
        ("25/10/2026 00:30:00", "2026-10-24T23:30:00Z"),
        ("25/10/2026 02:00:00", "2026-10-25T02:00:00Z"),
        ("26/10/2026 08:00:00", "2026-10-26T08:00:00Z"),
    ],
)
def test_times_around_the_autumn_change_are_not_ambiguous(text, expected) -> None:
    for rule in ("earlier", "later", "reject"):
        assert at(rule, text) == expected


@pytest.mark.parametrize(
    "day",
    [*SPRING.values(), *AUTUMN.values()],
    ids=["spring25", "spring26", "autumn25", "autumn26"],
)
def test_every_minute_of_a_clock_change_day_written_locally_reads_back_to_its_instant(day) -> None:
    """UTC -> London wall time (as an export writes it) -> UTC again, minute by minute.

    Only the second occurrence of the repeated hour cannot come back under
    "earlier" (the first cannot under "later"): the text does not say which.
    """
    start = datetime.strptime(day, "%d/%m/%Y").replace(tzinfo=UTC) - timedelta(hours=2)
    lost = {"earlier": 0, "later": 0}
    for minute in range(28 * 60):
        moment = start + timedelta(minutes=minute)
        local = moment.astimezone(LONDON)
        text = local.strftime(FORMAT)
        expected = rfc3339(int(moment.timestamp()) * MICROS)
        for rule in lost:
            if at(rule, text) != expected:
                lost[rule] += 1
                assert local.fold == (1 if rule == "earlier" else 0)
    repeated = 60 if day in AUTUMN.values() else 0
    assert lost == {"earlier": repeated, "later": repeated}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2025-05-12 10:00", "not a time in the format"),
        ("31/02/2025 10:00:00", "not a valid date"),
        ("12/05/2025 24:00:00", "not a valid time of day"),
        ("12/05/2025 10:61:00", "not a valid time of day"),
        ("", "not a time in the format"),
    ],
)
def test_text_that_is_not_a_time_says_why(text, reason) -> None:
    with pytest.raises(TimeError, match=reason):
        times().parse(text)


def test_formats_are_tried_in_order_and_any_strptime_format_works() -> None:
    local = times("reject", "%d/%m/%Y %H:%M:%S", "%d %b %Y %I:%M %p", "%Y-%m-%dT%H:%M:%S%z")
    assert rfc3339(local.parse("12/05/2025 10:00:00")) == "2025-05-12T09:00:00Z"
    assert rfc3339(local.parse("12 May 2025 10:00 AM")) == "2025-05-12T09:00:00Z"
    # A time with its own offset needs no zone.
    assert rfc3339(local.parse("2025-05-12T10:00:00+0000")) == "2025-05-12T10:00:00Z"


def test_fractions_of_a_second_are_kept() -> None:
    local = times("reject", "%Y-%m-%d %H:%M:%S.%f")
    assert rfc3339(local.parse("2025-01-12 10:00:00.25")) == "2025-01-12T10:00:00.250000Z"
