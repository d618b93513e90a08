"""The audit against the truth: its 95% intervals cover the true recording rate.

100 simulated fortnights of a force (seeds 1 to 100), each with the simulator's
ground truth (Leicestershire 2018's under-recording by default). For each: the
ledger's incidents are folded by the monitor's rules, a sample is drawn as
``cdi-monitor audit sample --margin 10`` would draw it (no earlier audit), an
auditor answers from the truth, and the estimators run. The true rate is the
share of the period's crimes in the frame that were recorded. Each stratum's
Wilson interval and the stratified whole-force interval must cover it in at
least 93 runs of 100, and so must the interval of the crimes unrecorded a year.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.application.audit import default_expectations
from monitor.devtools.simulate import ForceProfile
from monitor.domain.audit_answer import AuditedIncident
from monitor.domain.audit_estimate import by_stratum, stratified_rate, unrecorded_per_year
from monitor.domain.audit_sample import draw, plan_by_margin, populations
from tests.support.audit_world import World, simulate

RUNS = 100
REQUIRED = 93
DAYS = 14
MARGIN_POINTS = 10.0
START = datetime(2026, 3, 2, tzinfo=UTC)
PROFILE = replace(ForceProfile(), incidents_per_year=60_000)


def true_rate(world: World, stratum: str | None = None) -> tuple[int, int]:
    """(recorded, crimes) among the frame's incidents that were in truth crimes."""
    crimes = [
        i.incident_id
        for i in world.frame()
        if (stratum is None or i.stratum == stratum) and world.truth[i.incident_id].should_record
    ]
    return sum(world.recorded(i) for i in crimes), len(crimes)


def test_the_intervals_cover_the_truth_in_at_least_93_of_100_runs() -> None:
    covered: Counter[str] = Counter()
    runs_with_estimate: Counter[str] = Counter()
    unrecorded_covered = 0
    rates = []
    for seed in range(1, RUNS + 1):
        world = simulate(seed, PROFILE, START, DAYS, settle=timedelta(days=3))
        frame = world.frame()
        population = populations(frame)
        plans = plan_by_margin(population, default_expectations(frame), MARGIN_POINTS)
        sample = draw(frame, plans, seed=seed, period=world.period.label)
        audited = [
            AuditedIncident(
                i.incident_id, i.stratum, world.recorded(i.incident_id), world.answer(i.incident_id)
            )
            for i in sample
        ]
        for tally in by_stratum(audited, population):
            recorded, crimes = true_rate(world, tally.stratum)
            if crimes == 0:
                continue  # no crime in the stratum: no rate to cover
            runs_with_estimate[tally.stratum] += tally.rate is not None
            if tally.rate is not None and tally.rate.covers(recorded / crimes):
                covered[tally.stratum] += 1
        overall = stratified_rate(by_stratum(audited, population))
        assert overall is not None
        recorded, crimes = true_rate(world)
        rates.append(recorded / crimes)
        covered["all"] += overall.covers(recorded / crimes)
        per_year = 365 / DAYS
        estimate = unrecorded_per_year(world.crimes_recorded * per_year, overall)
        assert estimate is not None and estimate.upper is not None
        truth = (crimes - recorded) * per_year
        unrecorded_covered += estimate.lower <= truth <= estimate.upper

    print(f"true rates {min(rates):.3f} to {max(rates):.3f}; covered of {RUNS}: {dict(covered)}")
    print(f"runs with an estimate per stratum: {dict(runs_with_estimate)}")
    print(f"unrecorded crimes a year within the interval in {unrecorded_covered} runs")
    assert 0.80 < sum(rates) / RUNS < 0.88  # Leicestershire 2018: 84.1%
    assert set(covered) >= {"violence", "harassment", "malicious_communications", "all"}
    short = {s: n for s, n in covered.items() if n < REQUIRED}
    assert short == {}, f"covered fewer than {REQUIRED} of {RUNS} times: {short}"
    assert unrecorded_covered >= REQUIRED
