"""The ledger: the durable record of incidents, crimes and alerts.

The live state lives in the stream processor's tables; the ledger is its
projection into a database for audit, reporting and the supervisors' board.
Every write is an idempotent upsert keyed by the row's identity, so a batch
written twice (at-least-once delivery) leaves the ledger as written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from monitor.domain.incident import IncidentState, join
from monitor.domain.inputs import CrimeCancelled, CrimeRecorded
from monitor.domain.measure import measure
from monitor.domain.outcomes import alert_id_for
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import deadline_of, resolved_alert, schedule, status_of


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as the ledger keeps it. Times are timezone-aware (UTC)."""

    incident_id: str
    status: str
    force: str | None
    division: str | None
    channel: str | None
    opening_category: str | None
    category: str | None
    grade: str | None
    reported_at: datetime | None
    deadline: datetime | None
    crime_related: bool
    crime_related_since: datetime | None
    unflagged_at: datetime | None
    first_crime_id: str | None
    recorded_at: datetime | None
    elapsed_seconds: float | None
    within_target: bool | None
    recorded_before_report: bool
    closed_at: datetime | None
    closing_code: str | None
    last_event_at: datetime | None
    closed_by_team: str | None = None
    # The live state this row projects. A store joins it with the state it
    # already holds, so copies written late or twice can never set it back.
    state: IncidentState | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An incident's recording alert and where it is in its lifecycle.

    ``state`` is ``due_soon``, ``overdue`` or ``resolved``.
    """

    alert_id: str
    incident_id: str
    state: str
    force: str
    division: str | None
    category: str
    deadline: datetime
    due_soon_at: datetime | None
    overdue_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    late: bool | None


@dataclass(frozen=True, slots=True)
class CrimeRow:
    """A crime record, merged from its recorded and cancelled events.

    Either event may arrive first; fields left None by one event are filled
    by the other, never overwritten with None.
    """

    crime_id: str
    incident_ids: tuple[str, ...] = ()
    recorded_at: datetime | None = None
    offence_code: str | None = None
    offence_group: str | None = None
    victim_ref: str | None = None
    victim_consents_to_referral: bool | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None

    @property
    def unlinked(self) -> bool:
        return self.recorded_at is not None and not self.incident_ids


@dataclass(frozen=True, slots=True)
class LedgerBatch:
    """Rows to upsert together, in one transaction."""

    incidents: Sequence[IncidentRow] = ()
    alerts: Sequence[AlertRow] = ()
    crimes: Sequence[CrimeRow] = ()

    def __len__(self) -> int:
        return len(self.incidents) + len(self.alerts) + len(self.crimes)


class Ledger(Protocol):
    def write(self, batch: LedgerBatch) -> None:
        """Upsert every row of the batch atomically; safe to repeat."""

    def incident(self, incident_id: str) -> IncidentRow | None: ...

    def alert(self, alert_id: str) -> AlertRow | None: ...

    def crime(self, crime_id: str) -> CrimeRow | None: ...


def merge_crime(old: CrimeRow | None, new: CrimeRow) -> CrimeRow:
    """Combine two partial views of one crime: a known value is never replaced by None."""
    if old is None:
        return new

    def pick(a, b):
        return b if b is not None else a

    return CrimeRow(
        crime_id=new.crime_id,
        incident_ids=new.incident_ids or old.incident_ids,
        recorded_at=pick(old.recorded_at, new.recorded_at),
        offence_code=pick(old.offence_code, new.offence_code),
        offence_group=pick(old.offence_group, new.offence_group),
        victim_ref=pick(old.victim_ref, new.victim_ref),
        victim_consents_to_referral=pick(
            old.victim_consents_to_referral, new.victim_consents_to_referral
        ),
        cancelled_at=pick(old.cancelled_at, new.cancelled_at),
        cancellation_reason=pick(old.cancellation_reason, new.cancellation_reason),
    )


ALERT_LIFECYCLE_FIELDS = ("due_soon_at", "overdue_at", "resolved_at", "resolution", "late")


def alert_state(resolved_at: datetime | None, overdue_at: datetime | None) -> str:
    """Where an alert is in its lifecycle, from the times it reached."""
    if resolved_at is not None:
        return "resolved"
    return "overdue" if overdue_at is not None else "due_soon"


def merge_alert(old: AlertRow | None, new: AlertRow) -> AlertRow:
    """The later view of an alert, keeping lifecycle values it leaves None.

    An alert's lifecycle only moves forward, so a time once known stays known
    (and its state with it) even if an older snapshot is written after a newer one.
    """
    if old is None:
        return new
    kept = {
        name: getattr(old, name)
        for name in ALERT_LIFECYCLE_FIELDS
        if getattr(new, name) is None and getattr(old, name) is not None
    }
    if not kept:
        return new
    merged = replace(new, **kept)
    return replace(merged, state=alert_state(merged.resolved_at, merged.overdue_at))


Reconcile = Callable[[IncidentState, IncidentState], "tuple[IncidentRow, AlertRow | None]"]


def reconciler(policy: TimelinessPolicy) -> Reconcile:
    """Join a stored incident state with an incoming one and project the result."""

    def reconcile(
        stored: IncidentState, incoming: IncidentState
    ) -> tuple[IncidentRow, AlertRow | None]:
        return incident_rows(join(stored, incoming), policy)

    return reconcile


def crime_row_recorded(crime: CrimeRecorded) -> CrimeRow:
    return CrimeRow(
        crime_id=crime.crime_id,
        incident_ids=tuple(dict.fromkeys(crime.incident_ids)),
        recorded_at=crime.recorded_at,
        offence_code=crime.offence_code,
        offence_group=crime.offence_group,
        victim_ref=crime.victim_ref,
        victim_consents_to_referral=crime.victim_consents_to_referral,
    )


def crime_row_cancelled(cancelled: CrimeCancelled) -> CrimeRow:
    return CrimeRow(
        crime_id=cancelled.crime_id,
        cancelled_at=cancelled.cancelled_at,
        cancellation_reason=cancelled.reason,
    )


def incident_rows(
    state: IncidentState, policy: TimelinessPolicy
) -> tuple[IncidentRow, AlertRow | None]:
    """Project one incident's live state onto its ledger rows, by the domain's rules."""
    report, recording = state.report, state.recording
    measured = (
        None
        if report is None or recording is None
        else measure(report.reported_at, recording.recorded_at, policy.target)
    )
    closure = state.closure or state.closed_as_recorded
    row = IncidentRow(
        incident_id=state.incident_id,
        status=status_of(state, policy).value,
        force=report.force if report else None,
        division=report.division if report else None,
        channel=report.channel if report else None,
        opening_category=report.category if report else None,
        category=state.category,
        grade=report.grade if report else None,
        reported_at=report.reported_at if report else None,
        deadline=deadline_of(report, policy) if report else None,
        crime_related=state.crime_related_since is not None,
        crime_related_since=state.crime_related_since,
        unflagged_at=state.unflagged_at,
        first_crime_id=recording.crime_id if recording else None,
        recorded_at=recording.recorded_at if recording else None,
        elapsed_seconds=measured.elapsed_seconds if measured else None,
        within_target=measured.within_target if measured else None,
        recorded_before_report=measured.recorded_before_report if measured else False,
        closed_at=closure.closed_at if closure else None,
        closing_code=closure.closing_code.value if closure else None,
        last_event_at=state.last_event_at,
        closed_by_team=closure.closed_by_team if closure else None,
        state=state,
    )
    return row, alert_row(state, policy)


def alert_row(state: IncidentState, policy: TimelinessPolicy) -> AlertRow | None:
    """The incident's alert as announced so far; None when none was raised."""
    report, announced, plan = state.report, state.announced, schedule(state, policy)
    if plan is None or report is None or not (announced.due_soon or announced.overdue):
        return None
    resolved = (
        resolved_alert(state, plan, was_overdue=announced.overdue)
        if announced.resolved and plan.stop_at is not None
        else None
    )
    overdue_at = plan.overdue_at if announced.overdue else None
    return AlertRow(
        alert_id=alert_id_for(state.incident_id),
        incident_id=state.incident_id,
        state=alert_state(resolved.resolved_at if resolved else None, overdue_at),
        force=report.force,
        division=report.division,
        category=report.category,
        deadline=plan.deadline,
        due_soon_at=plan.warn_at if announced.due_soon else None,
        overdue_at=overdue_at,
        resolved_at=resolved.resolved_at if resolved else None,
        resolution=resolved.resolution.value if resolved else None,
        late=resolved.late if resolved else None,
    )


def reconcile_rows(
    stored: IncidentRow | None, incoming: IncidentRow, reconcile: Reconcile | None
) -> tuple[IncidentRow, AlertRow | None]:
    """The row to keep for an incident, and its alert if the join produced one."""
    if reconcile is None or stored is None or stored.state is None or incoming.state is None:
        return incoming, None
    return reconcile(stored.state, incoming.state)


@dataclass
class InMemoryLedger:
    """A ledger in dictionaries: the fake the unit tests use, held to the same contract.

    With ``reconcile`` (see ``reconciler``) it joins each incoming incident
    state with the stored one, as the SQL ledger does.
    """

    incidents: dict[str, IncidentRow] = field(default_factory=dict)
    alerts: dict[str, AlertRow] = field(default_factory=dict)
    crimes: dict[str, CrimeRow] = field(default_factory=dict)
    reconcile: Reconcile | None = None
    writes: int = 0

    def write(self, batch: LedgerBatch) -> None:
        alerts = list(batch.alerts)
        for incoming in batch.incidents:
            row, alert = reconcile_rows(
                self.incidents.get(incoming.incident_id), incoming, self.reconcile
            )
            self.incidents[row.incident_id] = row
            if alert is not None:
                alerts.append(alert)
        for alert in alerts:
            self.alerts[alert.alert_id] = merge_alert(self.alerts.get(alert.alert_id), alert)
        for crime in batch.crimes:
            self.crimes[crime.crime_id] = merge_crime(self.crimes.get(crime.crime_id), crime)
        self.writes += 1

    def incident(self, incident_id: str) -> IncidentRow | None:
        return self.incidents.get(incident_id)

    def alert(self, alert_id: str) -> AlertRow | None:
        return self.alerts.get(alert_id)

    def crime(self, crime_id: str) -> CrimeRow | None:
        return self.crimes.get(crime_id)
