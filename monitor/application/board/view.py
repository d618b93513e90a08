"""The board's view of the monitor's outputs: open alerts, recent measurements, handling.

Every incident has at most one recording alert; its transitions form a ladder
(due soon < overdue < resolved) and the view keeps the highest step seen, so
the view is the same whatever order or how often events arrive (delivery is
at least once, and a worker re-announces after a restart). An incident is on
the board while its alert is due soon or overdue; its resolution takes it off.

The rows, counts and filters are pure functions of the view and ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.application.board.handling import Action, Handling, fold
from schemas.output_events import AlertChanged, ClosedWithoutCrime, Fact, Measured, Report

_RANK = {"due_soon": 1, "overdue": 2, "resolved": 3}
STATES = ("overdue", "due_soon")
UNKNOWN_DIVISION = "unknown"


@dataclass
class AlertLine:
    """An incident's alert, as far as the view knows it."""

    alert_id: str
    report: Report
    state: str  # due_soon, overdue or resolved
    due_soon_at: datetime | None = None
    overdue_at: datetime | None = None
    resolved: AlertChanged | None = None


@dataclass
class BoardView:
    alerts: dict[str, AlertLine] = field(default_factory=dict)  # by incident
    measured: dict[str, Measured] = field(default_factory=dict)  # by incident: earliest recording
    closed: dict[str, ClosedWithoutCrime] = field(default_factory=dict)
    handling: dict[str, Handling] = field(default_factory=dict)
    last_action_id: int = 0

    def apply(self, fact: Fact) -> bool:
        """Take one fact; True when the list of open incidents changed."""
        match fact:
            case AlertChanged():
                return self._alert(fact)
            case Measured(report=report):
                known = self.measured.get(report.incident_id)
                if known is None or (fact.recorded_at, fact.crime_id) < (
                    known.recorded_at,
                    known.crime_id,
                ):
                    self.measured[report.incident_id] = fact
                return False
            case ClosedWithoutCrime(report=report):
                self.closed.setdefault(report.incident_id, fact)
                return False
        return False

    def _alert(self, fact: AlertChanged) -> bool:
        line = self.alerts.get(fact.report.incident_id)
        if line is None:
            line = AlertLine(fact.alert_id, fact.report, fact.kind)
            self.alerts[fact.report.incident_id] = line
            changed = fact.kind != "resolved"
        else:
            changed = _RANK[fact.kind] > _RANK[line.state]
            if changed:
                line.state = fact.kind
        if fact.kind == "due_soon":
            line.due_soon_at = line.due_soon_at or fact.at
        elif fact.kind == "overdue":
            line.overdue_at = line.overdue_at or fact.at
        else:
            line.resolved = line.resolved or fact
        return changed

    def apply_action(self, action: Action) -> bool:
        """Take one stored action (in ``action_id`` order); True when it was new."""
        if action.action_id is not None:
            if action.action_id <= self.last_action_id:
                return False
            self.last_action_id = action.action_id
        known = self.handling.get(action.incident_id, Handling())
        self.handling[action.incident_id] = fold(known, action)
        return True

    def open_lines(self) -> Iterable[AlertLine]:
        return (line for line in self.alerts.values() if line.state != "resolved")

    def prune(self, before: datetime) -> None:
        """Forget resolved alerts and measurements older than ``before`` (the ledger keeps them).

        An alert resolved before ``before`` cannot be re-raised by a late copy of
        an earlier step only if we still remember it, so ``before`` should be
        well beyond how long a worker may re-announce (days, not minutes).
        """
        for incident_id, line in list(self.alerts.items()):
            if line.resolved is not None and line.resolved.at < before:
                del self.alerts[incident_id]
        for incident_id, m in list(self.measured.items()):
            if m.recorded_at < before:
                del self.measured[incident_id]
        for incident_id, c in list(self.closed.items()):
            if c.closed_at < before:
                del self.closed[incident_id]


@dataclass(frozen=True)
class Filters:
    """What a user chose to see; None means everything."""

    division: str | None = None
    category: str | None = None
    state: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Filters:
        def pick(name: str) -> str | None:
            value = (query.get(name) or "").strip()
            return value[:64] or None

        state = pick("state")
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        return cls(division=pick("division"), category=pick("category"), state=state)


def division_of(report: Report) -> str:
    return report.division or UNKNOWN_DIVISION


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def row(line: AlertLine, handling: Handling, now: datetime) -> dict[str, Any]:
    """One incident on the board, as the page shows it (references only)."""
    r = line.report
    return {
        "incident_id": r.incident_id,
        "alert_id": line.alert_id,
        "state": line.state,
        "category": r.category,
        "division": division_of(r),
        "channel": r.channel,
        "reported_at": _stamp(r.reported_at),
        "deadline": _stamp(r.deadline),
        "seconds_left": (r.deadline - now).total_seconds(),
        "acknowledged_by": handling.acknowledged_by,
        "assignee": handling.assignee,
        "notes": handling.notes,
        "reviewed_no_crime": handling.reviewed_no_crime_by is not None,
    }


def _matches(line: AlertLine, filters: Filters, *, with_state: bool) -> bool:
    return (
        (filters.division is None or division_of(line.report) == filters.division)
        and (filters.category is None or line.report.category == filters.category)
        and (not with_state or filters.state is None or line.state == filters.state)
    )


def snapshot(view: BoardView, now: datetime, filters: Filters) -> dict[str, Any]:
    """What one browser shows: rows (overdue first, then the nearest deadline), counts, choices.

    The counts per state are of the rows matching the division and category
    filters, whatever the state filter, so a user filtering on "due soon" still
    sees how many are overdue.
    """
    lines = list(view.open_lines())
    in_scope = [x for x in lines if _matches(x, filters, with_state=False)]
    shown = [x for x in in_scope if _matches(x, filters, with_state=True)]
    shown.sort(key=lambda x: (x.state != "overdue", x.report.deadline, x.report.incident_id))
    counts = {state: sum(1 for x in in_scope if x.state == state) for state in STATES}
    counts["unacknowledged"] = sum(
        1
        for x in in_scope
        if view.handling.get(x.report.incident_id, Handling()).acknowledged_by is None
    )
    return {
        "now": _stamp(now),
        "rows": [row(x, view.handling.get(x.report.incident_id, Handling()), now) for x in shown],
        "counts": counts,
        "divisions": sorted({division_of(x.report) for x in lines}),
        "categories": sorted({x.report.category for x in lines}),
        "filters": {
            "division": filters.division,
            "category": filters.category,
            "state": filters.state,
        },
    }
