"""The recording clock: when alerts are due, and what to announce at a given time.

Event time decides: the deadline is ``reported_at + target``; the warning
point is ``deadline - warning``. The caller's ``now`` (a watermark: the time up
to which every input is known) decides only *when* a point can be announced.

An alert point counts as reached when ``now`` is past it and the clock had not
stopped by then (a recording, or a closing with a non-crime code). Because the
facts are defined in event time, a recording that arrives after its deadline
still announces the overdue alert it should have had, then resolves it as
late: live consumption and a replay from the start announce the same alerts.

Victim-support referrals (``monitor.domain.referral``) are announced from the
incident that owns them (the crime's first-named incident) as soon as its
report and the crime record are both known; they are recorded in
``announced.referred`` like every other announcement, so each is said once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.domain.incident import IncidentState, Recording, Report
from monitor.domain.measure import measure
from monitor.domain.outcomes import (
    AlertKind,
    AlertRaised,
    AlertResolved,
    ClosedWithoutCrime,
    Fact,
    RecordingMeasured,
    Resolution,
)
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.referral import ReferralFact, assess, referral_facts
from monitor.domain.values import evolve


@dataclass(frozen=True, slots=True)
class Schedule:
    """The event-time points of a crime-related incident's clock.

    ``warn_at`` is None when the incident only became crime-related after its
    deadline: it goes straight to overdue. ``stop_at`` is when the clock
    stopped, if it has.
    """

    deadline: datetime
    warn_at: datetime | None
    overdue_at: datetime
    stop_at: datetime | None
    stop_reason: Resolution | None

    def reached(self, point: datetime | None, now: datetime) -> bool:
        """True when ``now`` is past ``point`` and the clock was still running at it."""
        if point is None or not point < now:
            return False
        return self.stop_at is None or point < self.stop_at

    def stopped_by(self, now: datetime) -> bool:
        return self.stop_at is not None and self.stop_at < now


def deadline_of(report: Report, policy: TimelinessPolicy) -> datetime:
    return report.reported_at + policy.target


def schedule(state: IncidentState, policy: TimelinessPolicy) -> Schedule | None:
    """The clock of a reported, crime-related incident; None for any other."""
    report, since = state.report, state.crime_related_since
    if report is None or since is None:
        return None
    deadline = deadline_of(report, policy)
    since = max(since, report.reported_at)
    # An incident that becomes crime-related late keeps its original deadline.
    warn_at = max(deadline - policy.warning, since) if since < deadline else None
    overdue_at = max(deadline, since)
    stop_at, reason = None, None
    if state.recording is not None:
        stop_at, reason = state.recording.recorded_at, Resolution.RECORDED
    if state.closure is not None and (stop_at is None or state.closure.closed_at < stop_at):
        stop_at, reason = state.closure.closed_at, Resolution.CLOSED_WITHOUT_CRIME
    return Schedule(deadline, warn_at, overdue_at, stop_at, reason)


def advance(
    state: IncidentState, *, now: datetime | None, policy: TimelinessPolicy
) -> tuple[IncidentState, tuple[Fact, ...]]:
    """Announce every fact that is due for this incident at ``now``.

    A measurement is announced as soon as the report and a recording are both
    known (a later, earlier-stamped recording announces a new measurement).
    Alerts and closings wait for ``now``; with ``now`` None (the watermark is
    not established yet) only measurements are announced.
    """
    report = state.report
    if report is None:
        return state, ()
    announced = state.announced
    facts: list[Fact] = []
    deadline = deadline_of(report, policy)

    recording = state.recording
    if recording is not None and announced.measured_crime != recording.crime_id:
        facts.append(_measured(state, report, recording, policy))
        announced = evolve(announced, measured_crime=recording.crime_id)

    # Referrals depend only on the report and the crime record, never on now.
    referrals = _referrals(state, report, policy, skip=announced.referred)
    if referrals:
        facts.extend(referrals)
        referred = {f.referral.crime_id for f in referrals}
        announced = evolve(announced, referred=announced.referred | referred)

    plan = schedule(state, policy)
    if plan is not None and now is not None:
        if not announced.due_soon and plan.reached(plan.warn_at, now):
            facts.append(_raised(AlertKind.DUE_SOON, state, plan, plan.warn_at))
            announced = evolve(announced, due_soon=True)
        if not announced.overdue and plan.reached(plan.overdue_at, now):
            facts.append(_raised(AlertKind.OVERDUE, state, plan, plan.overdue_at))
            announced = evolve(announced, overdue=True)
        if plan.stopped_by(now):
            assert plan.stop_at is not None and plan.stop_reason is not None  # noqa: S101
            closed = plan.stop_reason is Resolution.CLOSED_WITHOUT_CRIME
            if closed and not announced.closed_without_crime:
                assert state.closure is not None  # noqa: S101
                facts.append(ClosedWithoutCrime(state.incident_id, report, deadline, state.closure))
                announced = evolve(announced, closed_without_crime=True)
            if announced.alert_open:
                facts.append(resolved_alert(state, plan, was_overdue=announced.overdue))
                announced = evolve(announced, resolved=True)

    if announced == state.announced:
        return state, ()
    return evolve(state, announced=announced), tuple(facts)


def _measured(
    state: IncidentState, report: Report, recording: Recording, policy: TimelinessPolicy
) -> RecordingMeasured:
    return RecordingMeasured(
        incident_id=state.incident_id,
        crime_id=recording.crime_id,
        report=report,
        recorded_at=recording.recorded_at,
        deadline=deadline_of(report, policy),
        measurement=measure(report.reported_at, recording.recorded_at, policy.target),
    )


def _referrals(
    state: IncidentState, report: Report, policy: TimelinessPolicy, *, skip: frozenset[str]
) -> list[ReferralFact]:
    """The referral facts of the victims this incident owns, except the crimes in ``skip``."""
    if policy.referrals is None:
        return []
    facts: list[ReferralFact] = []
    for victim in state.victims:
        if victim.crime_id not in skip:
            referral = assess(state.incident_id, report, victim, policy.referrals)
            facts.extend(referral_facts(referral))
    return facts


def resolved_alert(state: IncidentState, plan: Schedule, *, was_overdue: bool) -> AlertResolved:
    """The resolution of an incident's alert, once its clock has stopped (``plan.stop_at``).

    Late when the incident was recorded after its deadline; an incident closed
    without a crime record is resolved, never late.
    """
    assert state.report is not None  # noqa: S101
    assert plan.stop_at is not None and plan.stop_reason is not None  # noqa: S101
    closed = plan.stop_reason is Resolution.CLOSED_WITHOUT_CRIME
    recording = state.recording
    return AlertResolved(
        incident_id=state.incident_id,
        report=state.report,
        deadline=plan.deadline,
        resolution=plan.stop_reason,
        resolved_at=plan.stop_at,
        late=not closed and plan.stop_at > plan.deadline,
        crime_id=None if closed or recording is None else recording.crime_id,
        was_overdue=was_overdue,
    )


def _raised(
    kind: AlertKind, state: IncidentState, plan: Schedule, at: datetime | None
) -> AlertRaised:
    assert state.report is not None and at is not None  # noqa: S101
    return AlertRaised(kind, state.incident_id, state.report, plan.deadline, at)


def next_point(state: IncidentState, policy: TimelinessPolicy) -> datetime | None:
    """The next event-time point at which ``advance`` may announce something."""
    plan = schedule(state, policy)
    if plan is None:
        return None
    announced = state.announced
    candidates: list[datetime] = []
    if not announced.due_soon and plan.warn_at is not None and _before_stop(plan.warn_at, plan):
        candidates.append(plan.warn_at)
    elif not announced.overdue and _before_stop(plan.overdue_at, plan):
        candidates.append(plan.overdue_at)
    if plan.stop_at is not None:
        pending_close = (
            plan.stop_reason is Resolution.CLOSED_WITHOUT_CRIME
            and not announced.closed_without_crime
        )
        if pending_close or announced.alert_open:
            candidates.append(plan.stop_at)
    return min(candidates, default=None)


def _before_stop(point: datetime, plan: Schedule) -> bool:
    return plan.stop_at is None or point < plan.stop_at


def is_settled(state: IncidentState, policy: TimelinessPolicy) -> bool:
    """Nothing more can happen on this incident's clock unless a new event arrives.

    A crime-related incident still awaiting its recording is never settled: it
    stays on the clock (and on the board) until it is recorded or closed.
    """
    if state.report is None:
        return True  # a recording held for a report that may never come
    plan = schedule(state, policy)
    if plan is None:
        return True
    return plan.stop_at is not None and next_point(state, policy) is None


def expires_at(state: IncidentState, policy: TimelinessPolicy) -> datetime | None:
    """When a settled incident may leave the live state (it stays in the ledger)."""
    if state.last_event_at is None or not is_settled(state, policy):
        return None
    return state.last_event_at + policy.retention


def wakeup_at(state: IncidentState, policy: TimelinessPolicy) -> datetime | None:
    """When the clock next needs to look at this incident: a point, or its expiry."""
    point = next_point(state, policy)
    return point if point is not None else expires_at(state, policy)


class IncidentStatus(StrEnum):
    AWAITING_REPORT = "awaiting_report"
    NOT_CRIME_RELATED = "not_crime_related"
    AWAITING_RECORDING = "awaiting_recording"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    RECORDED = "recorded"
    RECORDED_LATE = "recorded_late"
    CLOSED_WITHOUT_CRIME = "closed_without_crime"


def status_of(state: IncidentState, policy: TimelinessPolicy) -> IncidentStatus:
    """Where the incident stands, as a supervisor would put it."""
    if state.report is None:
        return IncidentStatus.AWAITING_REPORT
    plan = schedule(state, policy)
    if plan is None:
        if state.recording is None:
            return IncidentStatus.NOT_CRIME_RELATED
        late = state.recording.recorded_at > deadline_of(state.report, policy)
        return IncidentStatus.RECORDED_LATE if late else IncidentStatus.RECORDED
    if plan.stop_reason is Resolution.CLOSED_WITHOUT_CRIME:
        return IncidentStatus.CLOSED_WITHOUT_CRIME
    if plan.stop_reason is Resolution.RECORDED:
        assert plan.stop_at is not None  # noqa: S101
        return (
            IncidentStatus.RECORDED_LATE
            if plan.stop_at > plan.deadline
            else IncidentStatus.RECORDED
        )
    if state.announced.overdue:
        return IncidentStatus.OVERDUE
    if state.announced.due_soon:
        return IncidentStatus.DUE_SOON
    return IncidentStatus.AWAITING_RECORDING
