"""What a simulated force looks like: volumes, mixes and recording behaviour.

The defaults describe a Leicestershire-like force (see the domain primer):
about 260,000 incidents a year, 30% of them crime-related, 93.7% of recorded
crimes recorded within 24 hours. Every proportion is a field so a test or a
benchmark can change it. Units are in the field names: ``_share`` is a
probability in [0, 1], ``_seconds`` a duration, a ``Mix`` pairs names with
relative weights (they need not sum to 1).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

Mix = tuple[tuple[str, float], ...]
Span = tuple[int, int]
"""A duration range in seconds, ``(low, high)``; values are drawn uniformly."""
OffenceMix = tuple[tuple[str, str, float], ...]
"""Home Office offence code, offence group and relative weight."""

HOUR = 3600
DAY = 24 * HOUR

# The arrival rate by hour of the day (UTC), relative: quietest before dawn,
# busiest in the late afternoon and evening, like a control room's call curve.
_HOURLY = (
    0.78, 0.64, 0.54, 0.46, 0.41, 0.42, 0.52, 0.70, 0.90, 1.02, 1.10, 1.14,
    1.17, 1.19, 1.22, 1.27, 1.32, 1.34, 1.32, 1.26, 1.19, 1.09, 0.98, 0.88,
)  # fmt: skip

_OFFENCES: tuple[tuple[str, OffenceMix], ...] = (
    ("violence", (
        ("105A", "violence_against_the_person", 0.55),
        ("8N", "violence_against_the_person", 0.40),
        ("5D", "violence_against_the_person", 0.05),
    )),
    ("sexual_offence", (
        ("20A", "sexual_offences", 0.45),
        ("19C", "sexual_offences", 0.25),
        ("88E", "sexual_offences", 0.20),
        ("17A", "sexual_offences", 0.10),
    )),
    ("domestic_abuse", (
        ("105A", "violence_against_the_person", 0.45),
        ("8N", "violence_against_the_person", 0.30),
        ("8L", "violence_against_the_person", 0.15),
        ("8Q", "violence_against_the_person", 0.10),
    )),
    ("harassment", (
        ("8L", "violence_against_the_person", 0.75),
        ("8Q", "violence_against_the_person", 0.15),
        ("8M", "violence_against_the_person", 0.10),
    )),
    ("malicious_communications", (("8R", "violence_against_the_person", 1.0),)),
    ("theft", (
        ("46", "theft_offences", 0.35),
        ("49", "theft_offences", 0.25),
        ("45", "theft_offences", 0.15),
        ("48", "theft_offences", 0.10),
        ("44", "theft_offences", 0.10),
        ("39", "theft_offences", 0.05),
    )),
    ("burglary", (
        ("28E", "burglary", 0.60),
        ("28F", "burglary", 0.10),
        ("30C", "burglary", 0.25),
        ("30D", "burglary", 0.05),
    )),
    ("criminal_damage", (
        ("58C", "criminal_damage_and_arson", 0.35),
        ("58A", "criminal_damage_and_arson", 0.30),
        ("58D", "criminal_damage_and_arson", 0.20),
        ("58B", "criminal_damage_and_arson", 0.10),
        ("56B", "criminal_damage_and_arson", 0.05),
    )),
    ("fraud", (("53D", "fraud_offences", 0.7), ("53C", "fraud_offences", 0.3))),
    ("asb", (("9A", "public_order_offences", 0.85), ("58D", "criminal_damage_and_arson", 0.15))),
    ("public_safety", (
        ("9A", "public_order_offences", 0.60),
        ("10D", "possession_of_weapons_offences", 0.25),
        ("10C", "possession_of_weapons_offences", 0.15),
    )),
    ("other", (
        ("99", "miscellaneous_crimes_against_society", 0.40),
        ("92E", "drug_offences", 0.35),
        ("66", "public_order_offences", 0.25),
    )),
)  # fmt: skip


@dataclass(frozen=True)
class ForceProfile:
    """One force's incident flow and recording behaviour; all times are UTC."""

    force: str = "leicestershire"
    incident_prefix: str = "LP"
    incident_system: str = "storm"
    crime_system: str = "niche"

    # Volume: first reports a year (repeat and duplicate calls come on top,
    # about 2% more), times rate_multiplier, spread over the day by
    # hourly_weights (24 relative weights, hour 0 = 00:00-01:00 UTC).
    incidents_per_year: float = 260_000
    rate_multiplier: float = 1.0
    hourly_weights: tuple[float, ...] = _HOURLY

    divisions: Mix = (
        ("city", 0.34), ("charnwood", 0.16), ("harborough_oadby_wigston", 0.11),
        ("hinckley_bosworth", 0.10), ("north_west_leicestershire", 0.10),
        ("blaby", 0.10), ("melton_rutland", 0.09),
    )  # fmt: skip
    channels: Mix = (
        ("101", 0.38), ("999", 0.22), ("online", 0.20),
        ("third_party", 0.10), ("in_person", 0.05), ("other", 0.05),
    )  # fmt: skip
    grades: Mix = (("1", 0.05), ("2", 0.35), ("3", 0.45), ("4", 0.15))
    emergency_grades: Mix = (("1", 0.55), ("2", 0.40), ("3", 0.05))
    """Response grades for 999 calls, which are mostly emergencies."""

    crime_related_share: float = 0.30
    """Share of first reports that disclose a crime when reported."""
    crime_categories: Mix = (
        ("violence", 0.24), ("theft", 0.20), ("domestic_abuse", 0.14),
        ("criminal_damage", 0.10), ("harassment", 0.07), ("burglary", 0.06),
        ("malicious_communications", 0.05), ("fraud", 0.04), ("sexual_offence", 0.03),
        ("other", 0.03), ("asb", 0.02), ("public_safety", 0.02),
    )  # fmt: skip
    non_crime_categories: Mix = (
        ("public_safety", 0.33), ("other", 0.245), ("asb", 0.20), ("domestic_abuse", 0.06),
        ("harassment", 0.04), ("malicious_communications", 0.02), ("violence", 0.04),
        ("theft", 0.02), ("fraud", 0.02), ("criminal_damage", 0.01), ("burglary", 0.01),
        ("sexual_offence", 0.005),
    )  # fmt: skip
    """Categories of reports closed as non-crime; some hide crimes (``true_recording_rates``)."""

    # The ground truth (monitor/devtools/simulate/truth.py): the share of the crimes disclosed
    # that the force records, by category. Like Leicestershire in 2018 (84.1% overall,
    # "inadequate"): lower for violence, harassment and malicious communications.
    true_recording_rates: Mix = (
        ("violence", 0.79), ("harassment", 0.74), ("malicious_communications", 0.70),
        ("domestic_abuse", 0.85), ("sexual_offence", 0.93), ("theft", 0.92),
        ("burglary", 0.93), ("criminal_damage", 0.91), ("fraud", 0.88), ("asb", 0.88),
        ("public_safety", 0.90), ("other", 0.90),
    )  # fmt: skip
    default_true_recording_rate: float = 0.90
    misrecorded_share: float = 0.03
    """Recorded crimes recorded under the wrong offence group (found by the audit)."""

    # Recording delay of a timely record: lognormal (median, sigma of its log),
    # redrawn until under 24 h. A late one is 24 h plus another lognormal.
    recording_delay_median_seconds: float = 90 * 60
    recording_delay_sigma: float = 1.2
    late_share: float = 0.063
    """Share of recorded crime-related incidents recorded after 24 h (93.7% in time)."""
    late_excess_median_seconds: float = 10 * HOUR
    late_excess_sigma: float = 0.9

    never_recorded_share: float = 0.02
    """Crime-related incidents never recorded: left open, no crime record, no closing."""
    closed_without_crime_share: float = 0.04
    """Crime-related incidents closed as no_crime/non_crime_incident before any record."""
    closed_without_crime_seconds: Span = (1 * HOUR, 20 * HOUR)
    no_crime_code_share: float = 0.6
    """Of those, the share closed ``no_crime`` (the rest ``non_crime_incident``)."""

    # Triage: a non-crime report found later to disclose a crime.
    triage_share: float = 0.03
    """Share of non-crime first reports that triage flags as crime-related."""
    triage_categories: Mix = (
        ("harassment", 0.45),
        ("malicious_communications", 0.35),
        ("asb", 0.10),
        ("other", 0.10),
    )
    triage_recategorise_share: float = 0.5
    triage_new_categories: Mix = (
        ("harassment", 0.4),
        ("malicious_communications", 0.3),
        ("domestic_abuse", 0.3),
    )
    triage_after_seconds: Span = (20 * 60, 12 * HOUR)

    # Closing. Each closing names the team that closed it: one of these in the
    # incident's division, the same for an incident whatever the seed.
    closing_teams: tuple[str, ...] = ("response_a", "response_b", "neighbourhood")
    non_crime_close_seconds: Span = (1 * HOUR, 8 * HOUR)
    non_crime_other_share: float = 0.2
    """Non-crime incidents closed ``other`` rather than ``non_crime_incident``."""
    recorded_close_seconds: Span = (10 * 60, 8 * HOUR)
    """From the crime record to closing the incident as ``crime_recorded``."""
    duplicate_call_share: float = 0.01
    """Non-crime incidents reported again by a second caller, closed ``duplicate``."""
    duplicate_call_after_seconds: Span = (60, 30 * 60)
    duplicate_close_seconds: Span = (5 * 60, 60 * 60)

    # Crime records.
    multi_incident_share: float = 0.03
    """Recorded crime-related incidents whose crime also links repeat calls."""
    three_incident_share: float = 0.3
    """Of those, the share with two repeat calls (three incidents) rather than one."""
    unlinked_share: float = 0.02
    """Crimes that link no incident (recorded from another route)."""
    unlinked_after_seconds: Span = (0, 6 * HOUR)
    cancelled_share: float = 0.015
    cancel_after_seconds: Span = (1 * DAY, 28 * DAY)
    cancellation_reasons: Mix = (
        ("additional_verifiable_information", 0.6),
        ("recorded_in_error", 0.3),
        ("transferred", 0.1),
    )
    victim_share: float = 0.9
    """Crimes with a pseudonymous victim reference."""
    consent_yes_share: float = 0.7
    consent_no_share: float = 0.15
    """With a victim: consent true, false, or (the rest) not stated."""
    offences: tuple[tuple[str, OffenceMix], ...] = _OFFENCES
    """Offence codes and groups by the incident's (latest) category."""

    # Delivery.
    redelivery_share: float = 0.005
    """Events delivered twice: same id, same bytes, a little later."""
    redelivery_after_seconds: Span = (1, 300)
    out_of_order_share: float = 0.01
    """Crime records published before their incident's report (a lagging C&C feed)."""
    feed_lag_seconds: Span = (60, 30 * 60)
    """How long after the crime record the lagging incident feed catches up."""

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_share") and not 0.0 <= getattr(self, f.name) <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1")
            if f.name.endswith("_seconds") and isinstance(getattr(self, f.name), tuple):
                low, high = getattr(self, f.name)
                if not 0 <= low <= high:
                    raise ValueError(f"{f.name} must be (low, high) with 0 <= low <= high")
        if self.incidents_per_year <= 0 or self.rate_multiplier <= 0:
            raise ValueError("the arrival rate must be positive")
        if len(self.hourly_weights) != 24 or min(self.hourly_weights) <= 0:
            raise ValueError("hourly_weights needs 24 positive weights")
        mixes: tuple[tuple[tuple[str, float], ...], ...] = (
            self.divisions,
            self.channels,
            self.grades,
            self.emergency_grades,
            self.crime_categories,
            self.non_crime_categories,
            self.triage_categories,
            self.triage_new_categories,
            self.cancellation_reasons,
        )
        mixes += tuple(tuple((c, w) for c, _, w in mix) for _, mix in self.offences)
        if any(not mix or min(w for _, w in mix) <= 0 for mix in mixes):
            raise ValueError("every mix needs at least one entry, with positive weights")
        if self.never_recorded_share + self.closed_without_crime_share >= 1:
            raise ValueError("some crime-related incidents must be recorded")
        if any(not 0 < rate <= 1 for _, rate in self.true_recording_rates) or not (
            0 < self.default_true_recording_rate <= 1
        ):
            raise ValueError("a true recording rate is a share in (0, 1]")
        if self.consent_yes_share + self.consent_no_share > 1:
            raise ValueError("consent_yes_share + consent_no_share must be at most 1")
        if self.unlinked_share >= 1:
            raise ValueError("unlinked_share must be below 1")
        offences = dict(self.offences)
        for mix in (self.crime_categories, self.triage_categories, self.triage_new_categories):
            missing = {name for name, _ in mix} - offences.keys()
            if missing:
                raise ValueError(f"no offence codes for categories {sorted(missing)}")

    @property
    def incidents_per_second(self) -> float:
        """Mean arrival rate of first reports, in incidents per second."""
        return self.incidents_per_year * self.rate_multiplier / (365.25 * DAY)

    def scale(self, rate_multiplier: float) -> ForceProfile:
        """The same force with ``rate_multiplier`` times as many arrivals (delays unchanged)."""
        return replace(self, rate_multiplier=self.rate_multiplier * rate_multiplier)
