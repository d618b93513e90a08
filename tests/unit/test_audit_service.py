"""The audit's use cases over in-memory ports: one sample a period, answers and their changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.adapters.security import may
from monitor.application.audit import (
    AnswerRefused,
    Sample,
    SampleExists,
    Sizing,
    StoredAnswer,
    draw_sample,
    record_answer,
)
from monitor.domain.audit_answer import Answer, AuditedIncident, ShouldRecord
from monitor.domain.audit_sample import NO_RECORD, RECORDED, FrameIncident
from monitor.domain.period import Period

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PERIOD = Period("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


class Memory:
    """Both ports in dictionaries."""

    def __init__(self, frame: list[FrameIncident]) -> None:
        self._frame = frame
        self.samples: dict[str, Sample] = {}
        self.answers: list[StoredAnswer] = []

    def frame(self, period: Period) -> list[FrameIncident]:
        return list(self._frame)

    def recorded_crimes(self, start: datetime, end: datetime) -> tuple[int, datetime | None]:
        return 0, None

    def sample_for(self, period_label: str) -> Sample | None:
        return self.samples.get(period_label)

    def latest_before(self, start: datetime) -> Sample | None:
        return None

    def save_sample(self, sample: Sample) -> Sample:
        saved = replace(sample, sample_id=len(self.samples) + 1)
        self.samples[sample.period.label] = saved
        return saved

    def audited(self, sample_id: int) -> list[AuditedIncident]:
        sample = next(s for s in self.samples.values() if s.sample_id == sample_id)
        known = {i.incident_id: i.route == RECORDED for i in self._frame}
        said = {a.incident_id: a.answer for a in self.answers}
        return [
            AuditedIncident(x.incident_id, x.stratum, known[x.incident_id], said.get(x.incident_id))
            for x in sample.items
        ]

    def answers_for(self, sample_id: int, incident_id: str) -> list[StoredAnswer]:
        return [a for a in self.answers if (a.sample_id, a.incident_id) == (sample_id, incident_id)]

    def add_answer(self, answer: StoredAnswer, *, replaces: int | None) -> StoredAnswer:
        stored = replace(answer, answer_id=len(self.answers) + 1)
        self.answers.append(stored)
        return stored


FRAME = [
    FrameIncident(f"LP-{i:03d}", "violence" if i % 2 else "theft", RECORDED if i % 3 else NO_RECORD)
    for i in range(40)
]


def drawn(store: Memory, seed: int = 7) -> Sample:
    sample, _ = draw_sample(
        store, store, period=PERIOD, seed=seed, sizing=Sizing(size=5), now=NOW, actor="registrar"
    )
    return sample


def test_drawing_again_with_the_same_seed_shows_the_same_sample_and_another_is_refused() -> None:
    store = Memory(FRAME)
    first, created = draw_sample(
        store, store, period=PERIOD, seed=7, sizing=Sizing(size=5), now=NOW, actor="registrar"
    )
    again, created_again = draw_sample(
        store, store, period=PERIOD, seed=7, sizing=Sizing(size=5), now=NOW, actor="someone"
    )
    assert created and not created_again and again == first
    assert len(first.items) == 15  # 5 theft, 10 violence (a category officers find hard)
    with pytest.raises(SampleExists, match="--seed 7 --size 5"):
        drawn(store, seed=8)


def answer_first(store: Memory, sample: Sample, **overrides) -> StoredAnswer:  # type: ignore[no-untyped-def]
    item = next(i for i in store.audited(sample.sample_id) if i.recorded)
    args = dict(
        sample_id=sample.sample_id,
        incident_id=item.incident_id,
        answer=Answer(ShouldRecord.YES, "violence_against_the_person", True),
        auditor="ann",
        is_admin=False,
        now=NOW,
    )
    return record_answer(store, **{**args, **overrides})


def test_an_auditor_answers_once_and_only_an_admin_changes_it_with_a_reason() -> None:
    store = Memory(FRAME)
    sample = drawn(store)
    first = answer_first(store, sample)
    assert (first.auditor, first.answered_at, first.change_reason) == ("ann", NOW, None)
    with pytest.raises(AnswerRefused) as again:
        answer_first(store, sample, answer=Answer(ShouldRecord.NO))
    assert again.value.status == 409
    with pytest.raises(AnswerRefused) as no_reason:
        answer_first(store, sample, answer=Answer(ShouldRecord.NO), auditor="adam", is_admin=True)
    assert no_reason.value.status == 422
    changed = answer_first(
        store, sample, answer=Answer(ShouldRecord.NO), auditor="adam", is_admin=True, reason="log"
    )
    assert changed.change_reason == "log" and len(store.answers) == 2


def test_an_answer_that_contradicts_itself_is_refused_and_nothing_is_stored() -> None:
    store = Memory(FRAME)
    sample = drawn(store)
    with pytest.raises(AnswerRefused) as refused:
        answer_first(store, sample, answer=Answer(ShouldRecord.YES, None, True))
    assert refused.value.status == 422 and "offence_group" in refused.value.errors
    with pytest.raises(AnswerRefused) as missing:
        answer_first(store, sample, answer=Answer(ShouldRecord.YES, "burglary"))
    assert "recorded_correctly" in missing.value.errors
    with pytest.raises(AnswerRefused) as not_in_sample:
        answer_first(store, sample, incident_id="LP-999")
    assert not_in_sample.value.status == 404
    assert store.answers == []


@pytest.mark.parametrize(
    ("role", "supervises", "audits", "manages"),
    [
        ("viewer", False, False, False),
        ("supervisor", True, False, False),
        ("auditor", False, True, False),
        ("admin", True, True, True),
    ],
)
def test_auditors_audit_but_do_not_act_on_incidents(role, supervises, audits, manages) -> None:
    assert may(role, "viewer")
    assert (may(role, "supervisor"), may(role, "auditor"), may(role, "admin")) == (
        supervises,
        audits,
        manages,
    )
