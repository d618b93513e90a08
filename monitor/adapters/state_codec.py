"""Incident state to bytes and back, for the stream processor's table and changelog.

The format is ``schemas.internal.IncidentRecord`` as compact JSON: versioned
(``v``), readable when inspecting a changelog topic, and about 400 bytes an
incident.
"""

from __future__ import annotations

from monitor.domain.incident import (
    Announced,
    CategoryChange,
    Closure,
    IncidentState,
    Recording,
    Report,
)
from monitor.domain.inputs import ClosingCode, CrimeVictim
from schemas.internal import (
    AnnouncedRecord,
    CategoryChangeRecord,
    ClosureRecord,
    IncidentRecord,
    RecordingRecord,
    ReportRecord,
    VictimRecord,
)


def to_record(state: IncidentState) -> IncidentRecord:
    r, c, a = state.report, state.category_change, state.announced
    return IncidentRecord(
        incident_id=state.incident_id,
        report=None
        if r is None
        else ReportRecord(
            event_id=r.event_id,
            force=r.force,
            reported_at=r.reported_at,
            channel=r.channel,
            category=r.category,
            crime_related=r.crime_related,
            division=r.division,
            grade=r.grade,
        ),
        flagged_at=state.flagged_at,
        unflagged_at=state.unflagged_at,
        category_change=None
        if c is None
        else CategoryChangeRecord(
            event_id=c.event_id, changed_at=c.changed_at, category=c.category
        ),
        recording=None
        if state.recording is None
        else RecordingRecord(
            crime_id=state.recording.crime_id, recorded_at=state.recording.recorded_at
        ),
        closure=_closure_record(state.closure),
        closed_as_recorded=_closure_record(state.closed_as_recorded),
        last_event_at=state.last_event_at,
        announced=AnnouncedRecord(
            measured_crime=a.measured_crime,
            due_soon=a.due_soon,
            overdue=a.overdue,
            resolved=a.resolved,
            closed_without_crime=a.closed_without_crime,
            referred=sorted(a.referred),
        ),
        victims=[victim_record(v) for v in state.victims],
    )


def from_record(record: IncidentRecord) -> IncidentState:
    r, c, a = record.report, record.category_change, record.announced
    return IncidentState(
        incident_id=record.incident_id,
        report=None
        if r is None
        else Report(
            event_id=r.event_id,
            force=r.force,
            reported_at=r.reported_at,
            channel=r.channel,
            category=r.category,
            crime_related=r.crime_related,
            division=r.division,
            grade=r.grade,
        ),
        flagged_at=record.flagged_at,
        unflagged_at=record.unflagged_at,
        category_change=None if c is None else CategoryChange(c.event_id, c.changed_at, c.category),
        recording=None
        if record.recording is None
        else Recording(record.recording.crime_id, record.recording.recorded_at),
        closure=_closure(record.closure),
        closed_as_recorded=_closure(record.closed_as_recorded),
        last_event_at=record.last_event_at,
        announced=Announced(
            measured_crime=a.measured_crime,
            due_soon=a.due_soon,
            overdue=a.overdue,
            resolved=a.resolved,
            closed_without_crime=a.closed_without_crime,
            referred=frozenset(a.referred),
        ),
        victims=tuple(victim_of_record(v) for v in record.victims),
    )


def victim_record(victim: CrimeVictim) -> VictimRecord:
    return VictimRecord(
        crime_id=victim.crime_id,
        event_id=victim.event_id,
        recorded_at=victim.recorded_at,
        offence_code=victim.offence_code,
        offence_group=victim.offence_group,
        victim_ref=victim.victim_ref,
        consents=victim.consents,
        domestic_abuse=victim.domestic_abuse,
        bereaved_relative=victim.bereaved_relative,
    )


def victim_of_record(record: VictimRecord) -> CrimeVictim:
    return CrimeVictim(
        crime_id=record.crime_id,
        event_id=record.event_id,
        recorded_at=record.recorded_at,
        offence_code=record.offence_code,
        offence_group=record.offence_group,
        victim_ref=record.victim_ref,
        consents=record.consents,
        domestic_abuse=record.domestic_abuse,
        bereaved_relative=record.bereaved_relative,
    )


def _closure_record(closure: Closure | None) -> ClosureRecord | None:
    if closure is None:
        return None
    return ClosureRecord(
        event_id=closure.event_id,
        closed_at=closure.closed_at,
        closing_code=closure.closing_code.value,
        closed_by_team=closure.closed_by_team,
    )


def _closure(record: ClosureRecord | None) -> Closure | None:
    if record is None:
        return None
    return Closure(
        record.event_id,
        record.closed_at,
        ClosingCode(record.closing_code.value),
        record.closed_by_team,
    )


Trigger = tuple[str, int]
"""The topic and offset of the message that last changed a stored state."""


def encode_state(state: IncidentState, trigger: Trigger | None = None) -> bytes:
    record = to_record(state)
    if trigger is not None:
        record = record.model_copy(update={"trigger": trigger})
    return record.model_dump_json(exclude_defaults=True).encode()


def decode_state(raw: bytes) -> IncidentState:
    return from_record(IncidentRecord.model_validate_json(raw))


def decode_stored(raw: bytes) -> tuple[IncidentState, Trigger | None]:
    record = IncidentRecord.model_validate_json(raw)
    return from_record(record), record.trigger
