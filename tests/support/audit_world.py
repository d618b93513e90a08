"""A simulated force as the audit sees it: the ledger's incidents, and the simulator's truth.

The incidents are folded from the simulator's events by the monitor's own rules
(``monitor.domain.incident.apply``) and projected by the ledger's own row
builder, so the frame is what the ledger would hold. The truth stays here: the
monitor's code never receives it; ``perfect_answer`` plays the auditor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.application.ledger import IncidentRow, incident_rows
from monitor.devtools.simulate import ForceProfile, SimEvent, Simulation
from monitor.devtools.simulate.truth import IncidentTruth
from monitor.domain.audit_answer import Answer, ShouldRecord
from monitor.domain.audit_sample import UNKNOWN_STRATUM, FrameIncident, route_of
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import (
    ClosingCode,
    CrimeRecorded,
    IncidentClosed,
    IncidentInput,
    IncidentReported,
    IncidentUpdated,
    links_of,
)
from monitor.domain.period import Period
from monitor.domain.policy import TimelinessPolicy

POLICY = TimelinessPolicy()


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def domain_inputs(event: SimEvent) -> Iterable[IncidentInput]:
    d, kind, eid = event.value["data"], event.event_type, event.value["id"]
    if kind == "cdi.incident.reported":
        yield IncidentReported(
            eid, d["incident_id"], d["force"], _t(d["reported_at"]), d["channel"], d["category"],
            d["crime_related"], d.get("division"), d.get("grade"),
        )  # fmt: skip
    elif kind == "cdi.incident.updated":
        yield IncidentUpdated(
            eid, d["incident_id"], _t(d["updated_at"]), d.get("crime_related"), d.get("category")
        )
    elif kind == "cdi.incident.closed":
        yield IncidentClosed(
            eid, d["incident_id"], _t(d["closed_at"]), ClosingCode(d["closing_code"]),
            d.get("closed_by_team"),
        )  # fmt: skip
    elif kind == "cdi.crime.recorded":
        crime = CrimeRecorded(
            eid, d["crime_id"], tuple(d["incident_ids"]), _t(d["recorded_at"]),
            d["offence_code"], d["offence_group"],
        )  # fmt: skip
        yield from links_of(crime)


@dataclass
class World:
    period: Period
    events: list[SimEvent]
    truth: dict[str, IncidentTruth]
    rows: dict[str, IncidentRow]
    crimes_recorded: int  # crime records in the period, cancelled or not
    crime_groups: dict[str, str]  # offence group by crime id

    def frame(self) -> list[FrameIncident]:
        items = []
        for row in self.rows.values():
            when = row.reported_at
            if when is None or not self.period.start <= when < self.period.end:
                continue
            route = route_of(
                recorded=row.first_crime_id is not None,
                closed=row.closed_at is not None,
                crime_related=row.crime_related,
            )
            if route is not None:
                stratum = row.category or UNKNOWN_STRATUM
                items.append(FrameIncident(row.incident_id, stratum, route, row.crime_related))
        return items

    def recorded(self, incident_id: str) -> bool:
        return self.rows[incident_id].first_crime_id is not None

    def recorded_group(self, incident_id: str) -> str | None:
        crime = self.rows[incident_id].first_crime_id
        return None if crime is None else self.crime_groups[crime]

    def answer(self, incident_id: str) -> Answer:
        return perfect_answer(
            self.truth[incident_id], self.recorded(incident_id), self.recorded_group(incident_id)
        )


def simulate(
    seed: int, profile: ForceProfile, start: datetime, days: int, settle: timedelta
) -> World:
    """``days`` of a force from ``start``, with ``settle`` more for records and closings."""
    period = Period("sim", start, start + timedelta(days=days))
    truth: dict[str, IncidentTruth] = {}
    events = list(Simulation(profile, seed).events(start, period.end + settle, truth=truth))
    states: dict[str, IncidentState] = {}
    crimes, groups = 0, {}
    for event in events:
        if event.redelivered:
            continue
        if event.event_type == "cdi.crime.recorded":
            data = event.value["data"]
            crimes += period.start <= _t(data["recorded_at"]) < period.end
            groups[data["crime_id"]] = data["offence_group"]
        for item in domain_inputs(event):
            state = states.get(item.incident_id) or IncidentState(item.incident_id)
            states[item.incident_id] = apply(state, item)
    rows = {i: incident_rows(state, POLICY)[0] for i, state in states.items()}
    return World(period, events, truth, rows, crimes, groups)


def perfect_answer(truth: IncidentTruth, recorded: bool, recorded_group: str | None) -> Answer:
    """What an auditor who knew the truth would answer."""
    if not truth.should_record:
        return Answer(ShouldRecord.NO)
    correct = None if not recorded else recorded_group == truth.offence_group
    return Answer(ShouldRecord.YES, truth.offence_group, correct)
