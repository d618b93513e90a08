"""The internal audit's use cases: draw a period's sample, take auditors' answers, estimate.

Over two ports: ``AuditFrame`` (what the ledger says of incidents and crimes)
and ``AuditStore`` (samples and answers). ``monitor.adapters.sql.audit`` is the
SQL adapter of both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from monitor.domain.audit_answer import Answer, AuditedIncident, check
from monitor.domain.audit_estimate import (
    Interval,
    StratumTally,
    Unrecorded,
    by_stratum,
    stratified_rate,
    unrecorded_per_year,
)
from monitor.domain.audit_sample import (
    RECORDED,
    Expectation,
    FrameIncident,
    StratumPlan,
    draw,
    plan_by_margin,
    plan_by_size,
    populations,
)
from monitor.domain.period import Period

NO_EARLIER_RATE = 0.5
"""With no earlier audit, --margin plans for the rate that needs the most crimes."""


@dataclass(frozen=True, slots=True)
class SampleItem:
    incident_id: str
    stratum: str
    route: str
    position: int


@dataclass(frozen=True, slots=True)
class Sample:
    sample_id: int
    period: Period
    seed: int
    sizing: str
    drawn_at: datetime
    drawn_by: str
    strata: tuple[StratumPlan, ...]
    items: tuple[SampleItem, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    answer_id: int
    sample_id: int
    incident_id: str
    answer: Answer
    auditor: str
    answered_at: datetime
    change_reason: str | None = None


class SampleExists(Exception):
    """The period already has a sample drawn differently; the message says how it was drawn."""


class AnswerRefused(Exception):
    """An answer that may not be stored (``status`` is the HTTP status that says why)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or {}


class AuditFrame(Protocol):
    def frame(self, period: Period) -> list[FrameIncident]: ...

    def recorded_crimes(self, start: datetime, end: datetime) -> tuple[int, datetime | None]:
        """Crimes recorded and not cancelled in [start, end), and the earliest recorded at all."""


class AuditStore(Protocol):
    def sample_for(self, period_label: str) -> Sample | None: ...

    def latest_before(self, start: datetime) -> Sample | None: ...

    def save_sample(self, sample: Sample) -> Sample: ...

    def audited(self, sample_id: int) -> list[AuditedIncident]:
        """The sample's incidents with their current answers and the ledger's view of them."""

    def answers_for(self, sample_id: int, incident_id: str) -> list[StoredAnswer]: ...

    def add_answer(self, answer: StoredAnswer, *, replaces: int | None) -> StoredAnswer:
        """Store ``answer``; ``replaces`` is the current answer's id (None for a first one).
        Raises ``AnswerRefused(409)`` if another answer came first."""


def default_expectations(frame: Iterable[FrameIncident]) -> dict[str, Expectation]:
    """For --margin with no earlier audit: a rate of 50%, and crimes in the share of the
    stratum's incidents the ledger shows as crime-related or recorded."""
    items = list(frame)
    related = Counter(i.stratum for i in items if i.crime_related or i.route == RECORDED)
    return {
        stratum: Expectation(NO_EARLIER_RATE, related[stratum] / n, "no earlier audit")
        for stratum, n in populations(items).items()
    }


def expectations_from(
    earlier: Sample, audited: Sequence[AuditedIncident], frame: Iterable[FrameIncident]
) -> dict[str, Expectation]:
    """Each stratum's rate and share of crimes in an earlier audit, where it found any."""
    defaults = default_expectations(frame)
    tallies = {t.stratum: t for t in by_stratum(audited, {})}
    found = {}
    for stratum, guess in defaults.items():
        t = tallies.get(stratum)
        if t is not None and t.crimes and t.judged:
            rate = t.recorded / t.crimes
            found[stratum] = Expectation(rate, t.crimes / t.judged, f"audit {earlier.period.label}")
        else:
            found[stratum] = guess
    return found


@dataclass(frozen=True, slots=True)
class Sizing:
    """``--size N`` (``size``) or ``--margin M`` (``margin``, percentage points)."""

    size: int | None = None
    margin: float | None = None

    def __post_init__(self) -> None:
        if (self.size is None) == (self.margin is None):
            raise ValueError("give either --size or --margin")

    def __str__(self) -> str:
        return f"--size {self.size}" if self.size is not None else f"--margin {self.margin:g}"


def draw_sample(
    frame_port: AuditFrame,
    store: AuditStore,
    *,
    period: Period,
    seed: int,
    sizing: Sizing,
    now: datetime,
    actor: str,
) -> tuple[Sample, bool]:
    """The period's sample and whether it was drawn now (False: it was there already).

    Drawing again with the same seed and sizing returns the stored sample;
    anything else is refused, so the period keeps one sample and an incident is
    never sampled twice for it.
    """
    existing = store.sample_for(period.label)
    if existing is not None:
        if existing.seed == seed and existing.sizing == str(sizing):
            return existing, False
        raise SampleExists(
            f"{period.label} already has a sample, drawn {existing.drawn_at:%Y-%m-%d %H:%M} UTC "
            f"by {existing.drawn_by} with --seed {existing.seed} {existing.sizing}: run it again "
            "with those to see it"
        )
    frame = frame_port.frame(period)
    population = populations(frame)
    if sizing.size is not None:
        plans = plan_by_size(population, sizing.size)
    else:
        assert sizing.margin is not None  # noqa: S101 - Sizing guarantees one of the two
        earlier = store.latest_before(period.start)
        expected = (
            expectations_from(earlier, store.audited(earlier.sample_id), frame)
            if earlier is not None
            else default_expectations(frame)
        )
        plans = plan_by_margin(population, expected, sizing.margin)
    chosen = draw(frame, plans, seed=seed, period=period.label)
    sample = Sample(
        sample_id=0,
        period=period,
        seed=seed,
        sizing=str(sizing),
        drawn_at=now,
        drawn_by=actor,
        strata=tuple(plans),
        items=tuple(
            SampleItem(i.incident_id, i.stratum, i.route, position)
            for position, i in enumerate(chosen, start=1)
        ),
    )
    return store.save_sample(sample), True


def record_answer(
    store: AuditStore,
    *,
    sample_id: int,
    incident_id: str,
    answer: Answer,
    auditor: str,
    is_admin: bool,
    now: datetime,
    reason: str | None = None,
) -> StoredAnswer:
    """An auditor's first answer, or an admin's change of it (which needs a reason)."""
    audited = {a.incident_id: a for a in store.audited(sample_id)}
    incident = audited.get(incident_id)
    if incident is None:
        raise AnswerRefused(404, f"{incident_id} is not in sample {sample_id}")
    try:
        check(answer, recorded=incident.recorded)
    except ValueError as exc:
        raise AnswerRefused(422, "not a valid answer", getattr(exc, "errors", {})) from None
    history = store.answers_for(sample_id, incident_id)
    current = history[-1] if history else None
    if current is None and reason is not None:
        raise AnswerRefused(422, "a first answer needs no reason", {"reason": "leave it out"})
    if current is not None:
        if not is_admin:
            raise AnswerRefused(
                409, f"{incident_id} is already answered: an admin can change it, with a reason"
            )
        if not reason:
            raise AnswerRefused(422, "a change needs a reason", {"reason": "required"})
    stored = StoredAnswer(0, sample_id, incident_id, answer, auditor, now, reason)
    return store.add_answer(stored, replaces=current.answer_id if current else None)


@dataclass(frozen=True, slots=True)
class AuditEstimate:
    """A sample's figures: per stratum, for the force, and the crimes unrecorded a year."""

    sample: Sample
    strata: list[StratumTally]
    force: Interval | None
    unrecorded: Unrecorded | None
    recorded_crimes: int
    recorded_crimes_days: float
    audited: list[AuditedIncident] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(t.answered for t in self.strata)


YEAR_DAYS = 365.25


def estimate(frame_port: AuditFrame, store: AuditStore, sample: Sample) -> AuditEstimate:
    """The sample's estimates, with the force's recorded crimes over the 12 months to the
    period's end (annualised from the ledger's first record when it holds less)."""
    audited = store.audited(sample.sample_id)
    population = {plan.stratum: plan.population for plan in sample.strata}
    tallies = by_stratum(audited, population)
    force = stratified_rate(tallies)
    end = sample.period.end
    start = end - timedelta(days=YEAR_DAYS)
    count, earliest = frame_port.recorded_crimes(start, end)
    covered = start if earliest is None or earliest <= start else earliest
    days = max((end - covered).total_seconds() / 86_400, 1.0)
    per_year = count * YEAR_DAYS / days
    unrecorded = unrecorded_per_year(per_year, force) if force is not None else None
    return AuditEstimate(sample, tallies, force, unrecorded, count, days, audited)
