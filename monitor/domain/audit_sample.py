"""Drawing the internal audit's sample: a stratified random sample of incidents.

The frame (what may be sampled) is what the inspectorate dip-samples: every
incident reported in the period that was closed without a crime record (any
closing code but ``crime_recorded`` — the route where unrecorded crimes hide),
every crime-related incident with no record still open (the overdue), and every
incident with a crime record (to check the recording itself). Incidents still
open that never disclosed a crime are not yet decided and stay out.

Strata are the incidents' categories (the latest, after triage). The categories
officers find hard — violence, sexual offences, domestic abuse, harassment and
malicious communications — get ``PRIORITY_FACTOR`` times the sample with
``--size``. Within a stratum the sample is a simple random sample without
replacement, drawn from the frame sorted by incident number with a generator
seeded by (period, seed, stratum): the same seed always draws the same sample,
and an incident is drawn at most once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from random import Random
from statistics import NormalDist

PRIORITY_CATEGORIES = frozenset(
    {"violence", "sexual_offence", "domestic_abuse", "harassment", "malicious_communications"}
)
PRIORITY_FACTOR = 2
UNKNOWN_STRATUM = "unknown"
Z_95 = NormalDist().inv_cdf(0.975)
"""1.95996...: the normal quantile of a two-sided 95% interval."""

RECORDED = "recorded"
NO_RECORD = "no_record"


@dataclass(frozen=True, slots=True)
class FrameIncident:
    """An incident that may be sampled, as the ledger shows it when the sample is drawn."""

    incident_id: str
    stratum: str
    route: str  # RECORDED (it has a crime record) or NO_RECORD
    crime_related: bool = False


@dataclass(frozen=True, slots=True)
class StratumPlan:
    """How many of a stratum's ``population`` incidents to audit, and why (``basis``)."""

    stratum: str
    population: int
    size: int
    priority: bool
    basis: str


def route_of(*, recorded: bool, closed: bool, crime_related: bool) -> str | None:
    """Whether an incident of the period is in the frame, and by which route (None: not)."""
    if recorded:
        return RECORDED
    if closed or crime_related:
        return NO_RECORD
    return None


def populations(frame: Iterable[FrameIncident]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in frame:
        counts[item.stratum] = counts.get(item.stratum, 0) + 1
    return dict(sorted(counts.items()))


def plan_by_size(population: Mapping[str, int], size: int) -> list[StratumPlan]:
    """``size`` incidents per stratum (``PRIORITY_FACTOR`` times that for the hard
    categories), or the whole stratum when it is smaller."""
    if size < 1:
        raise ValueError("the sample size per stratum must be at least 1")
    plans = []
    for stratum, n in sorted(population.items()):
        priority = stratum in PRIORITY_CATEGORIES
        wanted = size * (PRIORITY_FACTOR if priority else 1)
        plans.append(StratumPlan(stratum, n, min(n, wanted), priority, f"--size {size}"))
    return plans


def size_for_margin(
    margin_points: float, rate: float, crime_share: float, population: int, z: float = Z_95
) -> int:
    """Incidents to audit so that a stratum's 95% interval is about ±``margin_points``.

    With ``e = margin_points / 100``, ``p`` the recording rate expected (the last
    period's) and ``s`` the share of audited incidents expected to be crimes:

        n0 = z² p (1 − p) / e²           crimes needed (z = 1.96)
        n1 = n0 / (1 + (n0 − 1) / (s N)) with the finite-population correction
        n  = ⌈n1 / s⌉                    incidents to audit, at most N

    where ``N`` is the stratum's population of incidents. A Wilson interval's
    half-width is close to this normal approximation for the sizes it gives.
    """
    if not 0 < margin_points < 50:
        raise ValueError("the margin is in percentage points, between 0 and 50 (e.g. 2.0)")
    if population <= 0:
        return 0
    p = min(max(rate, 0.0), 1.0)
    s = min(max(crime_share, 0.01), 1.0)
    e = margin_points / 100
    n0 = z * z * p * (1 - p) / (e * e)
    crimes = s * population
    n1 = n0 / (1 + (n0 - 1) / crimes) if crimes > 1 else n0
    return min(population, max(1, math.ceil(n1 / s)))


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a stratum looked like last time: its recording rate and its share of crimes."""

    rate: float
    crime_share: float
    source: str  # e.g. "audit 2026-10", or "no earlier audit: rate 50%"


def plan_by_margin(
    population: Mapping[str, int], expected: Mapping[str, Expectation], margin_points: float
) -> list[StratumPlan]:
    plans = []
    for stratum, n in sorted(population.items()):
        guess = expected[stratum]
        size = size_for_margin(margin_points, guess.rate, guess.crime_share, n)
        basis = (
            f"--margin {margin_points:g}: rate {guess.rate:.1%}, crimes {guess.crime_share:.0%} "
            f"of incidents ({guess.source})"
        )
        plans.append(StratumPlan(stratum, n, size, stratum in PRIORITY_CATEGORIES, basis))
    return plans


def draw(
    frame: Iterable[FrameIncident], plans: Iterable[StratumPlan], *, seed: int, period: str
) -> list[FrameIncident]:
    """The sample, in the order to audit it (a seeded shuffle across strata)."""
    by_stratum: dict[str, list[FrameIncident]] = {}
    for item in frame:
        by_stratum.setdefault(item.stratum, []).append(item)
    chosen: list[FrameIncident] = []
    for plan in plans:
        items = sorted(by_stratum.get(plan.stratum, []), key=lambda i: i.incident_id)
        # Reproducible by design: anyone with the seed can check the sample was not chosen.
        rng = Random(f"cdi-audit|{period}|{seed}|{plan.stratum}")  # noqa: S311
        chosen += rng.sample(items, min(plan.size, len(items)))
    chosen.sort(key=lambda i: i.incident_id)
    Random(f"cdi-audit|{period}|{seed}|order").shuffle(chosen)  # noqa: S311
    return chosen
