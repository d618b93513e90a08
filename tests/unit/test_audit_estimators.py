"""The audit's estimators against worked examples: Wilson intervals from the textbook table,
a stratified ratio estimate computed by hand, the crimes unrecorded, the timeliness census."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.audit_estimate import (
    Interval,
    StratumTally,
    stratified_rate,
    unrecorded_per_year,
    wilson,
)
from monitor.domain.timeliness_census import CensusIncident, by_category, by_week, percentile

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("recorded", "crimes", "lower", "upper"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0000),
    ],
)
def test_the_wilson_interval_matches_the_textbook_table(recorded, crimes, lower, upper) -> None:
    interval = wilson(recorded, crimes)
    assert interval.estimate == pytest.approx(recorded / crimes)
    assert (round(interval.lower, 4), round(interval.upper, 4)) == (lower, upper)


def test_the_wilson_interval_of_a_rate_like_leicestershires_2018_figure() -> None:
    # 84.1% of 1,398 crimes (the inspectorate's 2018 sample had 1,662 reports): about ±1.9 points.
    interval = wilson(1176, 1398)
    assert interval.upper - interval.lower == pytest.approx(2 * 0.0191, abs=0.001)


def test_the_wilson_interval_refuses_an_impossible_count() -> None:
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_a_stratified_estimate_computed_by_hand() -> None:
    """Two strata: A (1,000 incidents; 10 judged, 8 crimes, 6 recorded) and
    B (200 incidents; 10 judged, 5 crimes, 5 recorded).

    Crimes  X = 1000 x 8/10 + 200 x 5/10 = 900; recorded Y = 1000 x 6/10 + 200 x 5/10 = 700;
    R = 700 / 900 = 0.7778.
    d = y - R x: A has 6 x 0.2222, 2 x -0.7778, 2 x 0 (mean -0.02222, s2 = 1.501235 / 9);
    B has 5 x 0.2222, 5 x 0 (mean 0.1111, s2 = 0.123457 / 9).
    v = (1000^2 x s2_A / 10 + 200^2 x s2_B / 10) / 900^2 = 0.020661
    (no finite-population correction); n_eff = R (1 - R) / v = 8.366; the interval is
    Wilson's at n_eff.
    """
    a = StratumTally("a", population=1000, sampled=10, answered=10, judged=10, crimes=8, recorded=6)
    b = StratumTally("b", population=200, sampled=10, answered=10, judged=10, crimes=5, recorded=5)
    r = 700 / 900
    s2_a = (6 * (1 - r + 0.2 / 9) ** 2 + 2 * (-r + 0.2 / 9) ** 2 + 2 * (0.2 / 9) ** 2) / 9
    s2_b = (5 * (1 - r - (1 - r) / 2) ** 2 + 5 * ((1 - r) / 2) ** 2) / 9
    v = (1000**2 * s2_a / 10 + 200**2 * s2_b / 10) / 900**2
    assert v == pytest.approx(0.020661, abs=1e-6)
    n_eff = r * (1 - r) / v
    expected = wilson(r * n_eff, n_eff)

    interval = stratified_rate([a, b])

    assert interval is not None
    assert interval.estimate == pytest.approx(0.777778, abs=1e-6)
    assert (interval.lower, interval.upper) == pytest.approx((expected.lower, expected.upper))
    assert (round(interval.lower, 4), round(interval.upper, 4)) == (0.4413, 0.9394)


def test_weighting_by_population_moves_the_estimate_towards_the_big_stratum() -> None:
    small = StratumTally("small", 100, 50, 50, 50, 50, 25)  # 50% recorded
    big = StratumTally("big", 10_000, 50, 50, 50, 50, 45)  # 90% recorded
    interval = stratified_rate([small, big])
    assert interval is not None
    # (100 x 25/50 + 10000 x 45/50) / (100 + 10000) = 9050 / 10100.
    assert interval.estimate == pytest.approx(9050 / 10100)


def test_one_stratum_gives_about_its_own_wilson_interval_however_much_was_audited() -> None:
    # No finite-population correction: auditing all 20 incidents or 20 of 5,000 says the
    # same, and one stratum's interval is close to the Wilson interval of its own count
    # (s2 divides by m - 1 where the binomial variance divides by n).
    whole, part = (
        stratified_rate([StratumTally("a", population, 20, 20, 20, 10, 8)])
        for population in (20, 5000)
    )
    assert whole is not None and part is not None
    assert (whole.lower, whole.upper) == pytest.approx((part.lower, part.upper))
    assert (whole.lower, whole.upper) == pytest.approx(
        (wilson(8, 10).lower, wilson(8, 10).upper), rel=0.02
    )


def test_all_recorded_still_leaves_an_interval_below_one() -> None:
    interval = stratified_rate([StratumTally("a", 1000, 30, 30, 30, 30, 30)])
    assert interval is not None and interval.estimate == 1.0 and interval.upper == 1.0
    assert interval.lower == pytest.approx(wilson(30, 30).lower)


def test_no_crime_found_gives_no_rate() -> None:
    assert stratified_rate([StratumTally("a", 100, 10, 10, 10, 0, 0)]) is None


def test_unrecorded_crimes_carry_the_interval_through() -> None:
    # Leicestershire 2017: 75.8% of crimes recorded; about 66,500 recorded a year would
    # mean 66,500 x 0.242 / 0.758 = 21,231 unrecorded (the inspectorate said over 21,200).
    result = unrecorded_per_year(66_500, Interval(0.758, 0.7386, 0.7774))
    assert result is not None
    assert result.estimate == pytest.approx(21_231, abs=1)
    assert result.lower == pytest.approx(66_500 * (1 - 0.7774) / 0.7774)
    assert result.upper == pytest.approx(66_500 * (1 - 0.7386) / 0.7386)
    assert result.lower < result.estimate < result.upper


def test_a_lower_bound_of_zero_leaves_the_unrecorded_crimes_unbounded() -> None:
    result = unrecorded_per_year(1000, Interval(0.5, 0.0, 0.9))
    assert result is not None and result.upper is None


def at(hours: float) -> datetime:
    return datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(hours=hours)


def incident(category: str, hours: float | None, *, day: float = 0) -> CensusIncident:
    return CensusIncident(
        category=category,
        division="city",
        reported_at=at(24 * day),
        elapsed_seconds=None if hours is None else hours * 3600,
        within_target=None if hours is None else hours * 3600 <= 86_400,
        unrecorded_past_deadline=hours is None,
    )


def test_the_census_counts_the_share_in_time_the_median_and_the_90th_percentile() -> None:
    # Delays 1..10 hours and one of exactly 24 h (in time) and one of 24 h 1 s (late).
    items = [incident("theft", h) for h in range(1, 11)]
    items += [incident("theft", 24), incident("theft", 24 + 1 / 3600), incident("theft", None)]
    (theft, whole) = by_category(items)
    assert theft.group == "theft" and whole.group == "all"
    assert (theft.recorded, theft.within_target, theft.unrecorded_past_deadline) == (12, 11, 1)
    assert theft.share_within_target == pytest.approx(11 / 12)
    delays = sorted([h * 3600 for h in range(1, 11)] + [86_400, 86_401])
    assert theft.median_seconds == (delays[5] + delays[6]) / 2 == 6.5 * 3600
    # Linear interpolation: rank 0.9 x 11 = 9.9 between the 10th and 11th smallest.
    assert theft.p90_seconds == pytest.approx(delays[9] + 0.9 * (delays[10] - delays[9]))


def test_percentiles_agree_with_the_usual_definition() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.5) is None


def test_weeks_start_on_monday_in_london() -> None:
    # Sunday 1 November 2026 23:30 UTC is still Sunday in London (GMT): week of 26 October.
    sunday = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)
    late_sunday = CensusIncident("theft", "city", sunday, 60, True)
    monday = CensusIncident("theft", "city", datetime(2026, 11, 2, 0, 30, tzinfo=UTC), 60, True)
    weeks = [w.group for w in by_week([late_sunday, monday], LONDON)]
    assert weeks == ["2026-10-26", "2026-11-02", "all"]
    assert math.isclose(by_week([monday], LONDON)[0].recorded, 1)
