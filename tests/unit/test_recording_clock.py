"""The recording clock: which alerts and outcomes an incident's events announce, and when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import ClosingCode
from monitor.domain.outcomes import (
    AlertKind,
    AlertRaised,
    AlertResolved,
    ClosedWithoutCrime,
    RecordingMeasured,
    Resolution,
)
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import (
    IncidentStatus,
    advance,
    expires_at,
    is_settled,
    next_point,
    status_of,
    wakeup_at,
)
from tests.unit.builders import T0, H, S, closed, flagged, recorded, reported

POLICY = TimelinessPolicy()
DEADLINE = T0 + 24 * H


def run(*events, now: datetime | None, policy: TimelinessPolicy = POLICY):
    """Fold the events in order, advancing the clock after each, then once at ``now``."""
    state = IncidentState("INC-1")
    facts = []
    for event in events:
        state = apply(state, event)
        state, new = advance(state, now=None, policy=policy)
        facts.extend(new)
    state, new = advance(state, now=now, policy=policy)
    facts.extend(new)
    return state, facts


def kinds(facts):
    out = []
    for f in facts:
        match f:
            case RecordingMeasured():
                out.append("measured")
            case AlertRaised(kind=k):
                out.append(k.value)
            case AlertResolved(late=late):
                out.append("resolved_late" if late else "resolved")
            case ClosedWithoutCrime():
                out.append("closed_without_crime")
    return out


@pytest.mark.parametrize(
    ("recorded_after", "expected"),
    [
        (2 * H, ["measured"]),
        (20 * H, ["measured"]),  # recorded exactly at the warning point: no warning was due
        (20 * H + S, ["measured", "due_soon", "resolved"]),
        (24 * H, ["measured", "due_soon", "resolved"]),  # exactly 24 h is in time
        (24 * H + S, ["measured", "due_soon", "overdue", "resolved_late"]),
        (72 * H, ["measured", "due_soon", "overdue", "resolved_late"]),
    ],
)
def test_a_late_recording_announces_the_alerts_it_should_have_had(recorded_after, expected):
    _, facts = run(reported(), recorded(T0 + recorded_after), now=T0 + 100 * H)
    assert kinds(facts) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0 + 19 * H, []),
        (T0 + 20 * H, []),  # remaining time equals the warning: not yet below it
        (T0 + 20 * H + S, ["due_soon"]),
        (DEADLINE, ["due_soon"]),  # at the deadline a recording would still be in time
        (DEADLINE + S, ["due_soon", "overdue"]),
    ],
)
def test_an_unrecorded_incident_is_due_soon_below_four_hours_and_overdue_after_24(now, expected):
    _, facts = run(reported(), now=now)
    assert kinds(facts) == expected


def test_the_alert_points_are_event_times_not_when_the_monitor_noticed():
    _, facts = run(reported(), now=T0 + 50 * H)
    due, over = facts
    assert (due.raised_at, over.raised_at) == (T0 + 20 * H, DEADLINE)
    assert due.alert_id == over.alert_id


def test_an_incident_that_is_not_crime_related_raises_no_alert_but_is_measured_if_recorded():
    _, facts = run(reported(crime_related=False), now=T0 + 50 * H)
    assert facts == []
    _, facts = run(reported(crime_related=False), recorded(T0 + 30 * H), now=T0 + 50 * H)
    assert kinds(facts) == ["measured"]
    assert not facts[0].measurement.within_target


def test_an_incident_that_becomes_crime_related_keeps_its_original_deadline():
    _, facts = run(reported(crime_related=False), flagged(T0 + 22 * H), now=T0 + 30 * H)
    assert kinds(facts) == ["due_soon", "overdue"]
    assert facts[0].raised_at == T0 + 22 * H
    assert facts[1].raised_at == DEADLINE


def test_an_incident_that_becomes_crime_related_after_its_deadline_is_overdue_at_once():
    state, facts = run(reported(crime_related=False), flagged(T0 + 30 * H), now=T0 + 30 * H + S)
    assert kinds(facts) == ["overdue"]
    assert facts[0].raised_at == T0 + 30 * H
    assert status_of(state, POLICY) is IncidentStatus.OVERDUE


def test_clearing_the_crime_flag_is_kept_for_audit_but_does_not_stop_the_clock():
    state, facts = run(reported(), flagged(T0 + H, crime_related=False), now=T0 + 25 * H)
    assert kinds(facts) == ["due_soon", "overdue"]
    assert state.unflagged_at == T0 + H


def test_closing_with_a_non_crime_code_before_recording_stops_the_clock_without_a_breach():
    state, facts = run(reported(), closed(T0 + 10 * H), now=T0 + 50 * H)
    assert kinds(facts) == ["closed_without_crime"]
    assert not facts[0].after_deadline
    assert status_of(state, POLICY) is IncidentStatus.CLOSED_WITHOUT_CRIME


@pytest.mark.parametrize("code", [c for c in ClosingCode if c is not ClosingCode.CRIME_RECORDED])
def test_every_closing_code_but_crime_recorded_stops_the_clock(code):
    _, facts = run(reported(), closed(T0 + H, code), now=T0 + 50 * H)
    assert kinds(facts) == ["closed_without_crime"]


def test_closing_after_the_deadline_resolves_the_overdue_alert_as_closed_without_crime():
    _, facts = run(reported(), closed(T0 + 26 * H), now=T0 + 50 * H)
    assert kinds(facts) == ["due_soon", "overdue", "closed_without_crime", "resolved"]
    resolved = facts[-1]
    assert resolved.resolution is Resolution.CLOSED_WITHOUT_CRIME
    assert resolved.crime_id is None and resolved.was_overdue
    assert facts[2].after_deadline


def test_closed_as_crime_recorded_without_a_crime_record_does_not_stop_the_clock():
    state, facts = run(reported(), closed(T0 + 2 * H, ClosingCode.CRIME_RECORDED), now=T0 + 30 * H)
    assert kinds(facts) == ["due_soon", "overdue"]
    assert state.closed_as_recorded is not None


def test_a_recording_after_a_non_crime_closing_is_still_measured():
    _, facts = run(reported(), closed(T0 + 2 * H), recorded(T0 + 3 * H), now=T0 + 50 * H)
    assert kinds(facts) == ["measured", "closed_without_crime"]


def test_a_recording_that_arrives_before_its_report_is_held_and_measured_when_the_report_comes():
    state, facts = run(recorded(T0 + 3 * H), now=T0 + 10 * H)
    assert facts == [] and status_of(state, POLICY) is IncidentStatus.AWAITING_REPORT
    state = apply(state, reported())
    _, facts = advance(state, now=T0 + 10 * H, policy=POLICY)
    assert kinds(facts) == ["measured"]
    assert facts[0].measurement.elapsed == 3 * H


def test_a_recording_stamped_before_its_report_is_measured_as_zero_and_flagged():
    _, facts = run(reported(), recorded(T0 - 5 * S), now=T0 + 10 * H)
    (m,) = facts
    assert m.measurement.elapsed == timedelta(0)
    assert m.measurement.recorded_before_report and m.measurement.within_target


def test_the_first_recording_counts_when_several_crimes_link_one_incident():
    state, facts = run(
        reported(), recorded(T0 + 2 * H, "CR-A"), recorded(T0 + 30 * H, "CR-B"), now=T0 + 50 * H
    )
    assert kinds(facts) == ["measured"]
    assert facts[0].crime_id == "CR-A"
    assert state.recording.crime_id == "CR-A"


def test_an_earlier_recording_arriving_later_is_measured_again_and_wins():
    state, facts = run(
        reported(), recorded(T0 + 30 * H, "CR-B"), recorded(T0 + 2 * H, "CR-A"), now=None
    )
    assert [f.crime_id for f in facts] == ["CR-B", "CR-A"]
    assert state.announced.measured_crime == "CR-A"


def test_redelivered_events_announce_nothing_new():
    events = [reported(), recorded(T0 + 30 * H), closed(T0 + 31 * H, ClosingCode.CRIME_RECORDED)]
    state, facts = run(*events, now=T0 + 50 * H)
    again, more = run(*events, *events, now=T0 + 50 * H)
    assert again == state
    for event in events:
        state = apply(state, event)
        state, extra = advance(state, now=T0 + 60 * H, policy=POLICY)
        assert extra == ()
    assert len(more) == len(facts)


def test_without_a_watermark_only_measurements_are_announced():
    _, facts = run(reported(), recorded(T0 + 30 * H), now=None)
    assert kinds(facts) == ["measured"]


def test_the_next_point_is_the_warning_then_the_deadline_then_nothing():
    state, _ = run(reported(), now=T0)
    assert next_point(state, POLICY) == T0 + 20 * H
    state, _ = advance(state, now=T0 + 21 * H, policy=POLICY)
    assert next_point(state, POLICY) == DEADLINE
    state, _ = advance(state, now=DEADLINE + S, policy=POLICY)
    assert next_point(state, POLICY) is None
    assert not is_settled(state, POLICY), "an overdue incident stays on the clock"
    assert expires_at(state, POLICY) is None


def test_a_pending_resolution_is_the_next_point_until_announced():
    state, _ = run(reported(), now=DEADLINE + S)
    state = apply(state, recorded(T0 + 30 * H))
    assert next_point(state, POLICY) == T0 + 30 * H


def test_a_settled_incident_expires_after_the_retention_from_its_last_event():
    state, _ = run(reported(crime_related=False), now=T0 + H)
    assert is_settled(state, POLICY)
    assert wakeup_at(state, POLICY) == T0 + POLICY.retention


def test_the_target_and_the_warning_are_policy_settings():
    policy = TimelinessPolicy(target=timedelta(hours=12), warning=timedelta(hours=1))
    _, facts = run(reported(), now=T0 + 12 * H + S, policy=policy)
    assert [f.raised_at for f in facts] == [T0 + 11 * H, T0 + 12 * H]


@pytest.mark.parametrize(
    "kwargs",
    [dict(target=timedelta(0)), dict(warning=timedelta(hours=25)), dict(warning=-H)],
)
def test_a_policy_rejects_impossible_settings(kwargs):
    with pytest.raises(ValueError):
        TimelinessPolicy(**kwargs)


def test_alert_kinds_are_the_published_names():
    assert [k.value for k in AlertKind] == ["due_soon", "overdue"]
