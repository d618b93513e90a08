"""The audit's estimates: recording rates with 95% intervals, and the crimes unrecorded.

Recording rate = crimes recorded ÷ crimes that should have been recorded, among
the audited incidents the auditor judged (``yes`` or ``no``; ``cannot_tell`` is
left out as if not audited). Whether an incident was recorded comes from the
ledger (a crime record names it).

Per stratum: the share recorded of the incidents judged crimes, with the
**Wilson score interval** (Wilson, E. B. (1927), "Probable inference, the law of
succession, and statistical inference", JASA 22(158):209-212). It keeps inside
[0, 1] and holds its coverage for rates near 100%, where the simple ±z·SE
interval does not (Newcombe, R. G. (1998), "Two-sided confidence intervals for
the single proportion: comparison of seven methods", Statistics in Medicine
17(8):857-872). No finite-population correction: sampling without replacement
makes it slightly conservative.

Whole force: the **combined ratio estimator** of stratified random sampling,
each stratum weighted by its population N_h (Cochran, W. G. (1977), *Sampling
Techniques*, 3rd ed., Wiley, chapter 6, ratio estimates in stratified random
sampling, the combined estimate):

    R = Σ N_h ȳ_h / Σ N_h x̄_h

with y = 1 for a crime recorded, x = 1 for a crime (should have been recorded),
means over the judged incidents of stratum h. Its variance is the linearised
(Taylor series) one, with d = y − R x:

    v(R) = Σ N_h² s²_d,h / m_h  ÷  (Σ N_h x̄_h)²

(m_h judged incidents). Like the per-stratum Wilson intervals it leaves out the
finite-population correction (1 − m_h / N_h): the "with replacement" variance,
the default of survey software (R's ``survey``, Stata's ``svy``) when none is
given. The interval then holds for the force's underlying recording rate as
well as for the incidents of the period (for which it is conservative when a
large share of a stratum is audited), and it says the same whether a stratum
was audited in part or in full.

The interval is the Wilson interval at the effective sample size
n_eff = R (1 − R) / v(R) (Kish, L. (1965), *Survey Sampling*, Wiley: the design
effect), so that it too stays inside [0, 1]. When R is 0 or 1, v(R) is 0 and
Kish's n_eff for unequal weights, (Σ w)² / Σ w², over the crimes judged, is
used instead (w = N_h / m_h).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.domain.audit_answer import AuditedIncident
from monitor.domain.audit_sample import Z_95

_UNKNOWN_VARIANCE = 0.25
"""s²_d for a stratum with one judged incident: the largest d = y − R x can have."""


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    lower: float
    upper: float

    def covers(self, value: float) -> bool:
        return self.lower <= value <= self.upper


def wilson(successes: float, trials: float, z: float = Z_95) -> Interval:
    """The Wilson score interval of ``successes`` out of ``trials`` (either may be fractional)."""
    if trials <= 0:
        raise ValueError("no trials: the rate is not defined")
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and the number of trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, lower, upper)


@dataclass(frozen=True, slots=True)
class StratumTally:
    """One stratum's audited incidents: ``judged`` (yes or no), ``crimes`` (yes) and
    ``recorded`` (yes, with a crime record), out of a ``population`` of incidents."""

    stratum: str
    population: int
    sampled: int
    answered: int
    judged: int
    crimes: int
    recorded: int

    @property
    def rate(self) -> Interval | None:
        return wilson(self.recorded, self.crimes) if self.crimes else None


def tally(stratum: str, population: int, incidents: Iterable[AuditedIncident]) -> StratumTally:
    items = list(incidents)
    return StratumTally(
        stratum=stratum,
        population=population,
        sampled=len(items),
        answered=sum(i.answer is not None for i in items),
        judged=sum(i.judged for i in items),
        crimes=sum(i.should_record for i in items),
        recorded=sum(i.should_record and i.recorded for i in items),
    )


def stratified_rate(tallies: Iterable[StratumTally], z: float = Z_95) -> Interval | None:
    """The whole force's recording rate: the combined ratio estimate and its interval."""
    used = [t for t in tallies if t.judged > 0 and t.population > 0]
    crimes_total = sum(t.population * t.crimes / t.judged for t in used)
    if crimes_total <= 0:
        return None
    recorded_total = sum(t.population * t.recorded / t.judged for t in used)
    rate = recorded_total / crimes_total
    variance = sum(_stratum_variance(t, rate) for t in used) / crimes_total**2
    if variance > 0 and 0 < rate < 1:
        n_eff = rate * (1 - rate) / variance
    else:
        n_eff = _kish_effective_size(used)
    interval = wilson(rate * n_eff, n_eff, z)
    return Interval(rate, interval.lower, interval.upper)


def _stratum_variance(t: StratumTally, rate: float) -> float:
    """N_h² s²_d / m_h, with d = y − R x over the judged incidents."""
    m = t.judged
    # d takes 1 − R (a crime recorded), −R (a crime not recorded) or 0 (no crime).
    values = [(1 - rate, t.recorded), (-rate, t.crimes - t.recorded), (0.0, m - t.crimes)]
    if m < 2:
        s2 = _UNKNOWN_VARIANCE
    else:
        mean = sum(v * k for v, k in values) / m
        s2 = sum(k * (v - mean) ** 2 for v, k in values) / (m - 1)
    return t.population**2 * s2 / m


def _kish_effective_size(tallies: list[StratumTally]) -> float:
    weights = [(t.population / t.judged, t.crimes) for t in tallies if t.crimes]
    total = sum(w * k for w, k in weights)
    squares = sum(w * w * k for w, k in weights)
    return total * total / squares


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """Crimes a year that go unrecorded, with the rate's interval carried through.

    ``upper`` is None when the rate's lower bound is 0 (no upper bound then).
    """

    recorded_per_year: float
    estimate: float
    lower: float
    upper: float | None


def unrecorded_per_year(recorded_per_year: float, rate: Interval) -> Unrecorded | None:
    """``C (1 − R) / R``: recorded crimes C are the share R of the crimes there were.

    The function decreases in R, so the rate's upper bound gives the lower bound.
    """
    if rate.estimate <= 0:
        return None

    def shortfall(r: float) -> float:
        return recorded_per_year * (1 - r) / r

    return Unrecorded(
        recorded_per_year=recorded_per_year,
        estimate=shortfall(rate.estimate),
        lower=shortfall(rate.upper),
        upper=shortfall(rate.lower) if rate.lower > 0 else None,
    )


def by_stratum(
    incidents: Iterable[AuditedIncident], population: Mapping[str, int]
) -> list[StratumTally]:
    grouped: dict[str, list[AuditedIncident]] = {s: [] for s in population}
    for incident in incidents:
        grouped.setdefault(incident.stratum, []).append(incident)
    return [tally(s, population.get(s, 0), grouped[s]) for s in sorted(grouped)]
