"""Drawing the audit sample: sizes by --size and by --margin, reproducible, never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.audit_sample import (
    NO_RECORD,
    RECORDED,
    Expectation,
    FrameIncident,
    draw,
    plan_by_margin,
    plan_by_size,
    populations,
    size_for_margin,
)
from monitor.domain.period import last_days, parse_period, previous_month

LONDON = ZoneInfo("Europe/London")


def frame(counts: dict[str, int]) -> list[FrameIncident]:
    return [
        FrameIncident(f"LP-{stratum}-{i:04d}", stratum, RECORDED if i % 3 else NO_RECORD)
        for stratum, n in counts.items()
        for i in range(n)
    ]


FRAME = frame({"violence": 300, "theft": 200, "harassment": 12, "public_safety": 500})


def test_size_gives_the_hard_categories_twice_the_sample_and_never_more_than_there_are() -> None:
    plans = {p.stratum: p for p in plan_by_size(populations(FRAME), 20)}
    assert {s: p.size for s, p in plans.items()} == {
        "harassment": 12,  # all 12: the stratum is smaller than 2 x 20
        "public_safety": 20,
        "theft": 20,
        "violence": 40,
    }
    assert plans["violence"].priority and not plans["theft"].priority


def test_the_same_seed_draws_the_same_sample_in_the_same_order() -> None:
    plans = plan_by_size(populations(FRAME), 20)
    first = draw(FRAME, plans, seed=7, period="2026-11")
    again = draw(list(reversed(FRAME)), plans, seed=7, period="2026-11")
    other = draw(FRAME, plans, seed=8, period="2026-11")
    assert first == again
    assert {i.incident_id for i in first} != {i.incident_id for i in other}


def test_an_incident_is_drawn_at_most_once_and_each_stratum_gets_its_size() -> None:
    plans = plan_by_size(populations(FRAME), 20)
    sample = draw(FRAME, plans, seed=1, period="2026-11")
    ids = [i.incident_id for i in sample]
    assert len(ids) == len(set(ids)) == 92
    assert {p.stratum: sum(i.stratum == p.stratum for i in sample) for p in plans} == {
        p.stratum: p.size for p in plans
    }
    # Shuffled across strata for the auditor, not one stratum after another.
    assert [i.stratum for i in sample[:10]] != sorted(i.stratum for i in sample[:10])


def test_a_stratum_sample_does_not_depend_on_the_other_strata() -> None:
    plans = plan_by_size(populations(FRAME), 20)
    theft_only = [p for p in plans if p.stratum == "theft"]
    whole = {i.incident_id for i in draw(FRAME, plans, seed=3, period="x") if i.stratum == "theft"}
    alone = {i.incident_id for i in draw(FRAME, theft_only, seed=3, period="x")}
    assert whole == alone


def test_the_margin_formula_worked_by_hand() -> None:
    # p = 0.84, e = 0.02: n0 = 1.96^2 x 0.84 x 0.16 / 0.0004 = 1290.7 crimes. With half the
    # incidents crimes among 10,000: n1 = 1290.7 / (1 + 1289.7 / 5000) = 1026.1, then
    # 1026.1 / 0.5 = 2052.2, so 2,053 incidents.
    assert size_for_margin(2.0, 0.84, 0.5, 10_000) == 2053
    # A small stratum needs most of itself: 150 crimes, n1 = 1290.7 / (1 + 1289.7 / 150)
    # = 134.4, so 269 of its 300 incidents.
    assert size_for_margin(2.0, 0.84, 0.5, 300) == 269
    # The wider the margin, the smaller the sample; a rate near 100% needs fewer.
    assert size_for_margin(5.0, 0.84, 0.5, 10_000) < 2053
    assert size_for_margin(2.0, 0.97, 0.5, 10_000) < size_for_margin(2.0, 0.84, 0.5, 10_000)


def test_the_margin_is_in_percentage_points() -> None:
    with pytest.raises(ValueError, match="percentage points"):
        size_for_margin(0.02 * 100 * 50, 0.8, 0.5, 100)


def test_plan_by_margin_uses_each_strata_last_rate() -> None:
    expected = {
        "violence": Expectation(0.70, 0.6, "audit 2026-10"),
        "theft": Expectation(0.95, 0.6, "audit 2026-10"),
        "harassment": Expectation(0.5, 0.5, "no earlier audit"),
        "public_safety": Expectation(0.9, 0.05, "audit 2026-10"),
    }
    plans = {p.stratum: p for p in plan_by_margin(populations(FRAME), expected, 5.0)}
    assert plans["theft"].size < plans["violence"].size
    assert plans["harassment"].size == 12
    assert "rate 70.0%" in plans["violence"].basis and "audit 2026-10" in plans["violence"].basis


def test_periods_follow_london_midnights() -> None:
    november = parse_period("2026-11", LONDON)
    assert november.start == datetime(2026, 11, 1, 0, tzinfo=UTC)  # GMT
    assert november.end == datetime(2026, 12, 1, 0, tzinfo=UTC)
    summer = parse_period("2026-04..2026-06", LONDON)
    assert summer.start == datetime(2026, 3, 31, 23, tzinfo=UTC)  # BST
    assert summer.end == datetime(2026, 6, 30, 23, tzinfo=UTC)
    days = parse_period("2026-11-01..2026-11-14", LONDON)
    assert days.days == 14
    with pytest.raises(ValueError, match="not a period"):
        parse_period("November", LONDON)
    with pytest.raises(ValueError, match="ends before"):
        parse_period("2026-11-14..2026-11-01", LONDON)
    with pytest.raises(ValueError, match="01 to 12"):
        parse_period("2026-13", LONDON)


def test_the_last_30_days_and_the_previous_month() -> None:
    now = datetime(2026, 11, 26, 10, tzinfo=UTC)
    period = last_days(now, LONDON)
    assert period.label == "2026-10-27..2026-11-25" and period.days == 30
    assert previous_month(now, LONDON).label == "2026-10"
