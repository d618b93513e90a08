"""The audit's ports over the ledger database (``AuditFrame`` and ``AuditStore``).

Reads the ledger's ``incidents`` and ``crimes`` and writes the audit's own
tables (migration 0003). Victims' details are never selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from monitor.adapters.sql.references import crimes_naming
from monitor.adapters.sql.tables import (
    alerts,
    audit_answers,
    audit_items,
    audit_samples,
    audit_strata,
    board_actions,
    crimes,
    incidents,
)
from monitor.adapters.state_codec import decode_state
from monitor.application.audit import (
    AnswerRefused,
    Sample,
    SampleExists,
    SampleItem,
    StoredAnswer,
)
from monitor.domain.audit_answer import Answer, AuditedIncident, ShouldRecord
from monitor.domain.audit_sample import UNKNOWN_STRATUM, FrameIncident, StratumPlan, route_of
from monitor.domain.period import Period
from monitor.domain.timeliness_census import CensusIncident


class SqlAudit:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- AuditFrame ---

    def frame(self, period: Period) -> list[FrameIncident]:
        i = incidents.c
        query = select(i.incident_id, i.category, i.first_crime_id, i.closed_at, i.crime_related)
        query = query.where(
            i.reported_at >= period.start,
            i.reported_at < period.end,
            or_(i.first_crime_id.is_not(None), i.closed_at.is_not(None), i.crime_related),
        )
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        frame = []
        for r in rows:
            route = route_of(
                recorded=r.first_crime_id is not None,
                closed=r.closed_at is not None,
                crime_related=bool(r.crime_related),
            )
            if route is not None:  # always, by the WHERE clause; the rule stays in one place
                frame.append(
                    FrameIncident(
                        r.incident_id, r.category or UNKNOWN_STRATUM, route, r.crime_related
                    )
                )
        return frame

    def recorded_crimes(self, start: datetime, end: datetime) -> tuple[int, datetime | None]:
        with self.engine.connect() as c:
            count = c.scalar(
                select(func.count()).where(
                    crimes.c.recorded_at >= start,
                    crimes.c.recorded_at < end,
                    crimes.c.cancelled_at.is_(None),
                )
            )
            earliest = c.scalar(select(func.min(crimes.c.recorded_at)))
        return int(count or 0), earliest

    def force_name(self) -> str | None:
        """The force the ledger's incidents belong to (the most common, if several)."""
        with self.engine.connect() as c:
            row = c.execute(
                select(incidents.c.force, func.count().label("n"))
                .where(incidents.c.force.is_not(None))
                .group_by(incidents.c.force)
                .order_by(func.count().desc())
                .limit(1)
            ).first()
        return None if row is None else str(row.force).replace("_", " ").title()

    def census(self, period: Period, as_of: datetime) -> list[CensusIncident]:
        """The crime-related (or recorded) incidents reported in the period."""
        i = incidents.c
        query = select(
            i.category,
            i.division,
            i.reported_at,
            i.elapsed_seconds,
            i.within_target,
            i.first_crime_id,
            i.closing_code,
            i.deadline,
        ).where(
            i.reported_at >= period.start,
            i.reported_at < period.end,
            or_(i.crime_related, i.first_crime_id.is_not(None)),
        )
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [
            CensusIncident(
                category=r.category or UNKNOWN_STRATUM,
                division=r.division or UNKNOWN_STRATUM,
                reported_at=r.reported_at,
                elapsed_seconds=r.elapsed_seconds if r.first_crime_id is not None else None,
                within_target=r.within_target if r.first_crime_id is not None else None,
                unrecorded_past_deadline=(
                    r.first_crime_id is None
                    and r.closing_code in (None, "crime_recorded")
                    and r.deadline is not None
                    and r.deadline <= as_of
                ),
            )
            for r in rows
        ]

    # --- AuditStore ---

    def samples(self) -> list[Sample]:
        with self.engine.connect() as c:
            rows = c.execute(select(audit_samples).order_by(audit_samples.c.period_start)).all()
            return [self._sample(c, r, items=False) for r in rows]

    def sample(self, sample_id: int) -> Sample | None:
        return self._one(audit_samples.c.sample_id == sample_id)

    def sample_for(self, period_label: str) -> Sample | None:
        return self._one(audit_samples.c.period == period_label)

    def latest_before(self, start: datetime) -> Sample | None:
        with self.engine.connect() as c:
            row = c.execute(
                select(audit_samples)
                .where(audit_samples.c.period_end <= start)
                .order_by(audit_samples.c.period_end.desc())
                .limit(1)
            ).first()
            return None if row is None else self._sample(c, row)

    def _one(self, where: Any) -> Sample | None:
        with self.engine.connect() as c:
            row = c.execute(select(audit_samples).where(where)).first()
            return None if row is None else self._sample(c, row)

    def _sample(self, c: Any, r: Any, items: bool = True) -> Sample:
        strata = c.execute(
            select(audit_strata)
            .where(audit_strata.c.sample_id == r.sample_id)
            .order_by(audit_strata.c.stratum)
        ).all()
        found: tuple[SampleItem, ...] = ()
        if items:
            found = tuple(
                SampleItem(x.incident_id, x.stratum, x.route, x.position)
                for x in c.execute(
                    select(audit_items)
                    .where(audit_items.c.sample_id == r.sample_id)
                    .order_by(audit_items.c.position)
                )
            )
        return Sample(
            sample_id=r.sample_id,
            period=Period(r.period, r.period_start, r.period_end),
            seed=r.seed,
            sizing=r.sizing,
            drawn_at=r.drawn_at,
            drawn_by=r.drawn_by,
            strata=tuple(
                StratumPlan(s.stratum, s.population, s.size, s.priority, s.basis) for s in strata
            ),
            items=found,
        )

    def save_sample(self, sample: Sample) -> Sample:
        try:
            with self.engine.begin() as c:
                sample_id = c.execute(
                    insert(audit_samples)
                    .values(
                        period=sample.period.label,
                        period_start=sample.period.start,
                        period_end=sample.period.end,
                        seed=sample.seed,
                        sizing=sample.sizing,
                        drawn_at=sample.drawn_at,
                        drawn_by=sample.drawn_by,
                    )
                    .returning(audit_samples.c.sample_id)
                ).scalar_one()
                if sample.strata:
                    c.execute(
                        insert(audit_strata),
                        [
                            {
                                "sample_id": sample_id,
                                "stratum": p.stratum,
                                "population": p.population,
                                "size": p.size,
                                "priority": p.priority,
                                "basis": p.basis,
                            }
                            for p in sample.strata
                        ],
                    )
                if sample.items:
                    c.execute(
                        insert(audit_items),
                        [
                            {
                                "sample_id": sample_id,
                                "incident_id": x.incident_id,
                                "position": x.position,
                                "stratum": x.stratum,
                                "route": x.route,
                            }
                            for x in sample.items
                        ],
                    )
        except IntegrityError:
            raise SampleExists(f"{sample.period.label} already has a sample") from None
        saved = self.sample(sample_id)
        assert saved is not None  # noqa: S101 - written in the transaction above
        return saved

    def audited(self, sample_id: int) -> list[AuditedIncident]:
        latest = (
            select(
                audit_answers.c.incident_id,
                func.max(audit_answers.c.version).label("version"),
            )
            .where(audit_answers.c.sample_id == sample_id)
            .group_by(audit_answers.c.incident_id)
            .subquery()
        )
        a, x, i = audit_answers.c, audit_items.c, incidents.c
        query = (
            select(
                x.incident_id,
                x.stratum,
                i.first_crime_id,
                i.division,
                i.closing_code,
                i.closed_by_team,
                a.should_record,
                a.offence_group,
                a.recorded_correctly,
                a.note,
            )
            .select_from(audit_items)
            .join(incidents, i.incident_id == x.incident_id, isouter=True)
            .join(latest, latest.c.incident_id == x.incident_id, isouter=True)
            .join(
                audit_answers,
                and_(
                    a.sample_id == x.sample_id,
                    a.incident_id == x.incident_id,
                    a.version == latest.c.version,
                ),
                isouter=True,
            )
            .where(x.sample_id == sample_id)
            .order_by(x.position)
        )
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [
            AuditedIncident(
                incident_id=r.incident_id,
                stratum=r.stratum,
                recorded=r.first_crime_id is not None,
                answer=None if r.should_record is None else _answer(r),
                division=r.division,
                closing_code=r.closing_code,
                closed_by_team=r.closed_by_team,
            )
            for r in rows
        ]

    def answers_for(self, sample_id: int, incident_id: str) -> list[StoredAnswer]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(audit_answers)
                .where(
                    audit_answers.c.sample_id == sample_id,
                    audit_answers.c.incident_id == incident_id,
                )
                .order_by(audit_answers.c.version)
            ).all()
        return [
            StoredAnswer(
                answer_id=r.answer_id,
                sample_id=r.sample_id,
                incident_id=r.incident_id,
                answer=_answer(r),
                auditor=r.auditor,
                answered_at=r.answered_at,
                change_reason=r.change_reason,
            )
            for r in rows
        ]

    def add_answer(self, answer: StoredAnswer, *, replaces: int | None) -> StoredAnswer:
        """Insert the next version; a concurrent answer to the same version loses with 409."""
        a = answer.answer
        try:
            with self.engine.begin() as c:
                current = c.scalar(
                    select(func.max(audit_answers.c.version)).where(
                        audit_answers.c.sample_id == answer.sample_id,
                        audit_answers.c.incident_id == answer.incident_id,
                    )
                )
                current_id = (
                    None
                    if current is None
                    else c.scalar(
                        select(audit_answers.c.answer_id).where(
                            audit_answers.c.sample_id == answer.sample_id,
                            audit_answers.c.incident_id == answer.incident_id,
                            audit_answers.c.version == current,
                        )
                    )
                )
                if current_id != replaces:
                    raise AnswerRefused(409, "the answer changed meanwhile: look again")
                answer_id = c.execute(
                    insert(audit_answers)
                    .values(
                        sample_id=answer.sample_id,
                        incident_id=answer.incident_id,
                        version=(current or 0) + 1,
                        should_record=a.should_record.value,
                        offence_group=a.offence_group,
                        recorded_correctly=a.recorded_correctly,
                        note=a.note,
                        auditor=answer.auditor,
                        answered_at=answer.answered_at,
                        change_reason=answer.change_reason,
                    )
                    .returning(audit_answers.c.answer_id)
                ).scalar_one()
        except IntegrityError:
            raise AnswerRefused(409, "the answer changed meanwhile: look again") from None
        return StoredAnswer(
            answer_id,
            answer.sample_id,
            answer.incident_id,
            a,
            answer.auditor,
            answer.answered_at,
            answer.change_reason,
        )

    # --- what the auditor reads: the incident's story, without victims' details ---

    def story(self, incident_id: str) -> dict[str, Any] | None:
        i = incidents.c
        with self.engine.connect() as c:
            row = c.execute(
                select(
                    i.incident_id,
                    i.status,
                    i.force,
                    i.division,
                    i.channel,
                    i.grade,
                    i.opening_category,
                    i.category,
                    i.reported_at,
                    i.deadline,
                    i.crime_related,
                    i.crime_related_since,
                    i.unflagged_at,
                    i.first_crime_id,
                    i.recorded_at,
                    i.elapsed_seconds,
                    i.within_target,
                    i.closed_at,
                    i.closing_code,
                    i.closed_by_team,
                    i.state,
                ).where(i.incident_id == incident_id)
            ).first()
            if row is None:
                return None
            crime_rows = crimes_naming(c, incident_id)
            alert_rows = c.execute(
                select(
                    alerts.c.state,
                    alerts.c.due_soon_at,
                    alerts.c.overdue_at,
                    alerts.c.resolved_at,
                    alerts.c.resolution,
                    alerts.c.late,
                ).where(alerts.c.incident_id == incident_id)
            ).all()
            actions = c.execute(
                select(
                    board_actions.c.kind,
                    board_actions.c.actor,
                    board_actions.c.at,
                    board_actions.c.assignee,
                    board_actions.c.note,
                    board_actions.c.reason,
                )
                .where(board_actions.c.incident_id == incident_id)
                .order_by(board_actions.c.action_id)
            ).all()
        incident = {k: v for k, v in row._mapping.items() if k != "state"}
        change = decode_state(row.state.encode()).category_change if row.state else None
        incident["category_changed_at"] = change.changed_at if change else None
        return {
            "incident": incident,
            "crimes": crime_rows,
            "alerts": [dict(r._mapping) for r in alert_rows],
            "actions": [dict(r._mapping) for r in actions],
        }

    def answer_history(self, sample_id: int, incident_id: str) -> Sequence[StoredAnswer]:
        return self.answers_for(sample_id, incident_id)


def _answer(row: Any) -> Answer:
    return Answer(
        ShouldRecord(row.should_record), row.offence_group, row.recorded_correctly, row.note
    )
