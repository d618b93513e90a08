"""Every figure of the report, gathered once from the audit tables and the ledger.

The same figures are on the board (Audit figures) and in the worker's
``cdi_audit_recording_rate`` gauges, so all three agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.adapters.sql.audit import SqlAudit
from monitor.application.audit import AuditEstimate, Sample, estimate
from monitor.domain.audit_answer import AuditedIncident
from monitor.domain.audit_estimate import Interval
from monitor.domain.period import Period
from monitor.domain.timeliness_census import (
    Timeliness,
    by_category,
    by_division,
    by_week,
)

# The inspectorate's published figures, for scale (see the domain primer).
PUBLISHED = (
    ("Leicestershire 2017 (HMICFRS)", 0.758, 0.0194),
    ("Leicestershire 2018 (HMICFRS)", 0.841, None),
    ("England and Wales 2018", 0.877, None),
)


@dataclass(frozen=True)
class Feedback:
    """Audited incidents of one division or closing team, and those wrongly closed."""

    name: str
    audited: int
    wrongly_closed: list[str]


@dataclass
class ReportFigures:
    period: Period
    generated_at: datetime
    time_zone: str
    sample: Sample | None
    estimate: AuditEstimate | None
    by_category: list[Timeliness]
    by_division: list[Timeliness]
    by_week: list[Timeliness]
    delays_seconds: list[float]
    wrongly_closed: dict[str, list[str]] = field(default_factory=dict)
    recorded_incorrectly: dict[str, list[str]] = field(default_factory=dict)
    feedback_divisions: list[Feedback] = field(default_factory=list)
    feedback_teams: list[Feedback] = field(default_factory=list)

    @property
    def timeliness(self) -> Timeliness:
        return self.by_category[-1]


def _findings(audited: list[AuditedIncident]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    wrong: dict[str, list[str]] = defaultdict(list)
    incorrect: dict[str, list[str]] = defaultdict(list)
    for item in audited:
        if item.wrongly_closed:
            wrong[item.stratum].append(item.incident_id)
        if item.recorded_incorrectly:
            incorrect[item.stratum].append(item.incident_id)
    return dict(sorted(wrong.items())), dict(sorted(incorrect.items()))


def _feedback(audited: list[AuditedIncident], key: str) -> list[Feedback]:
    groups: dict[str, list[AuditedIncident]] = defaultdict(list)
    for item in audited:
        if item.answer is not None:
            groups[getattr(item, key) or "unknown"].append(item)
    return [
        Feedback(name, len(items), sorted(i.incident_id for i in items if i.wrongly_closed))
        for name, items in sorted(groups.items())
    ]


def gather(
    audit: SqlAudit, period: Period, *, now: datetime, zone: ZoneInfo, sample: Sample | None
) -> ReportFigures:
    """The report's figures for ``period``, with ``sample``'s audit (None: no audit yet)."""
    census = audit.census(period, as_of=now)
    result = estimate(audit, audit, sample) if sample is not None else None
    audited = result.audited if result is not None else []
    wrong, incorrect = _findings(audited)
    return ReportFigures(
        period=period,
        generated_at=now,
        time_zone=zone.key,
        sample=sample,
        estimate=result,
        by_category=by_category(census),
        by_division=by_division(census),
        by_week=by_week(census, zone),
        delays_seconds=sorted(i.elapsed_seconds for i in census if i.elapsed_seconds is not None),
        wrongly_closed=wrong,
        recorded_incorrectly=incorrect,
        feedback_divisions=_feedback(audited, "division"),
        feedback_teams=_feedback(audited, "closed_by_team"),
    )


def sample_for_report(audit: SqlAudit, period: Period, period_given: bool) -> Sample | None:
    """The period's own sample; without a period asked for, the latest sample drawn."""
    if period_given:
        return audit.sample_for(period.label)
    samples = audit.samples()
    return audit.sample(samples[-1].sample_id) if samples else None


def _interval(value: Interval | None) -> dict[str, float] | None:
    return None if value is None else asdict(value)


def _timeliness(line: Timeliness) -> dict[str, Any]:
    return {**asdict(line), "share_within_target": line.share_within_target}


def figures_json(f: ReportFigures) -> dict[str, Any]:
    """The figures as plain JSON values (times as RFC 3339 text by the caller's encoder)."""
    e = f.estimate
    return {
        "period": {"label": f.period.label, "start": f.period.start, "end": f.period.end},
        "generated_at": f.generated_at,
        "time_zone": f.time_zone,
        "audit": None
        if e is None
        else {
            "sample_id": e.sample.sample_id,
            "period": e.sample.period.label,
            "seed": e.sample.seed,
            "sizing": e.sample.sizing,
            "sampled": sum(t.sampled for t in e.strata),
            "answered": e.answered,
            "force": _interval(e.force),
            "strata": [
                {**asdict(t), "rate": _interval(t.rate), "priority": t.stratum in _priority(e)}
                for t in e.strata
            ],
            "recorded_crimes": e.recorded_crimes,
            "recorded_crimes_days": e.recorded_crimes_days,
            "unrecorded_per_year": None if e.unrecorded is None else asdict(e.unrecorded),
        },
        "published": [
            {"name": name, "rate": rate, "margin": margin} for name, rate, margin in PUBLISHED
        ],
        "timeliness": {
            "all": _timeliness(f.timeliness),
            "by_category": [_timeliness(x) for x in f.by_category[:-1]],
            "by_division": [_timeliness(x) for x in f.by_division[:-1]],
            "by_week": [_timeliness(x) for x in f.by_week[:-1]],
        },
        "wrongly_closed": f.wrongly_closed,
        "recorded_incorrectly": f.recorded_incorrectly,
        "feedback": {
            "divisions": [asdict(x) for x in f.feedback_divisions],
            "teams": [asdict(x) for x in f.feedback_teams],
        },
    }


def _priority(e: AuditEstimate) -> set[str]:
    return {s.stratum for s in e.sample.strata if s.priority}
