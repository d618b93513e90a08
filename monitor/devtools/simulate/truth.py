"""The simulator's ground truth: for each incident, whether a crime should have been recorded.

The monitor never sees it (it is no event); the audit's tests answer from it,
as a perfect auditor would, and check that the audit's intervals cover the
truth. A force under-records when crimes disclosed to it end without a crime
record. Here those are, by category ``c``:

- crime-related incidents never recorded (always crimes),
- crime-related incidents closed ``no_crime`` or ``non_crime_incident``, and
  incidents reported and closed as non-crime: each of these is in truth a crime
  with the same chance ``h_c``, chosen so that the expected recording rate of
  the category is the profile's ``true_recording_rates`` (Leicestershire 2018
  by default: about 84% overall, lower for violence, harassment and malicious
  communications).

With ``R_c`` recorded crime incidents, ``N_c`` never recorded and ``C_c + M_c``
closed without a record (per first report, from the profile's shares), the
rate ``r_c`` needs ``U_c = R_c (1 - r_c) / r_c`` unrecorded crimes, so
``h_c = (U_c - N_c) / (C_c + M_c)``. Duplicate calls are never crimes of their
own. A recorded crime is recorded under the wrong offence group with the
profile's ``misrecorded_share``.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.devtools.simulate.profile import ForceProfile, Mix


@dataclass(frozen=True, slots=True)
class IncidentTruth:
    """What a perfect auditor would find: a crime or not, and its offence group."""

    should_record: bool
    offence_group: str | None = None


def _shares(mix: Mix) -> dict[str, float]:
    total = sum(w for _, w in mix)
    shares: dict[str, float] = {}
    for name, weight in mix:
        shares[name] = shares.get(name, 0.0) + weight / total
    return shares


def expected_flows(p: ForceProfile) -> dict[str, tuple[float, float, float]]:
    """Per category, per first report: (recorded crimes, never recorded, closed without a
    record) — the last both crime-related closures without crime and non-crime closures."""
    crime, triage = _shares(p.crime_categories), _shares(p.triage_categories)
    new, non_crime = _shares(p.triage_new_categories), _shares(p.non_crime_categories)
    s, t, rr = p.crime_related_share, p.triage_share, p.triage_recategorise_share
    repeats = 1 + p.multi_incident_share * (1 + p.three_incident_share)
    recorded_path = 1 - p.never_recorded_share - p.closed_without_crime_share
    flows = {}
    for c in sorted(set(crime) | set(triage) | set(new) | set(non_crime)):
        w = crime.get(c, 0.0)
        final_after_triage = (1 - rr) * triage.get(c, 0.0) + rr * new.get(c, 0.0)
        recorded = s * w * recorded_path * repeats + (1 - s) * t * final_after_triage
        never = s * w * p.never_recorded_share
        closed = s * w * p.closed_without_crime_share + (1 - s) * (1 - t) * non_crime.get(c, 0.0)
        flows[c] = (recorded, never, closed)
    return flows


def hidden_crime_chances(p: ForceProfile) -> dict[str, float]:
    """``h_c``: the chance that an incident of category ``c`` closed without a record was a
    crime. ``ValueError`` when the profile cannot reach a category's recording rate."""
    rates = dict(p.true_recording_rates)
    chances = {}
    for c, (recorded, never, closed) in expected_flows(p).items():
        rate = rates.get(c, p.default_true_recording_rate)
        if recorded <= 0:
            chances[c] = 0.0
            continue
        needed = recorded * (1 - rate) / rate
        if needed < never:
            raise ValueError(
                f"a recording rate of {rate:.1%} for {c} is too high: its never-recorded "
                f"incidents alone make it at most {recorded / (recorded + never):.1%}"
            )
        chance = (needed - never) / closed if closed > 0 else 0.0
        if chance > 1:
            raise ValueError(
                f"a recording rate of {rate:.1%} for {c} is too low: it needs more unrecorded "
                f"crimes than {c} has incidents closed without a record (raise its share in "
                "non_crime_categories)"
            )
        chances[c] = chance
    return chances


def expected_recording_rate(p: ForceProfile) -> float:
    """The force's recording rate the profile gives: recorded ÷ (recorded + unrecorded)."""
    chances = hidden_crime_chances(p)
    recorded = unrecorded = 0.0
    for c, (r, never, closed) in expected_flows(p).items():
        recorded += r
        unrecorded += never + chances[c] * closed
    return recorded / (recorded + unrecorded)
