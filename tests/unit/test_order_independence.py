"""Whatever the arrival order, the same events announce the same alerts and end in the same state.

The stream processor guarantees one thing about order: when the clock reads
``now``, every event stamped before ``now`` has been applied (the watermark).
Within that, arrival order is arbitrary. These properties check that the rules
give the same answer for any such order, and for redelivered events.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.incident import IncidentState, apply, join
from monitor.domain.inputs import ClosingCode, event_time
from monitor.domain.outcomes import RecordingMeasured
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import advance
from tests.unit.builders import T0, closed, flagged, recorded, reported

POLICY = TimelinessPolicy()
END = T0 + timedelta(days=10)
hours = st.integers(min_value=-2 * 3600, max_value=80 * 3600).map(lambda s: timedelta(seconds=s))


@st.composite
def incident_histories(draw):
    events = [reported(crime_related=draw(st.booleans()))]
    for i in range(draw(st.integers(0, 3))):
        events.append(recorded(T0 + draw(hours), crime=f"CR-{i}"))
    if draw(st.booleans()):
        events.append(flagged(T0 + draw(hours), crime_related=draw(st.booleans())))
    if draw(st.booleans()):
        code = draw(st.sampled_from(list(ClosingCode)))
        team = draw(st.sampled_from([None, "city_response_a", "crime_bureau"]))
        events.append(closed(T0 + draw(hours), code, team=team))
    return events


def canonical(events):
    """Events in event-time order, the clock ticking to each event's time first."""
    state, facts = IncidentState("INC-1"), []
    for event in sorted(events, key=event_time):
        state, new = advance(state, now=event_time(event), policy=POLICY)
        facts += new
        state = apply(state, event)
        state, new = advance(state, now=None, policy=POLICY)
        facts += new
    state, new = advance(state, now=END, policy=POLICY)
    return state, facts + list(new)


@st.composite
def watermark_orders(draw, events):
    """An arrival order with clock ticks that never run ahead of an unapplied event."""
    pending = list(events)
    steps = []
    while pending:
        if draw(st.booleans()):
            steps.append(("tick", min(event_time(e) for e in pending)))
        index = draw(st.integers(0, len(pending) - 1))
        event = pending.pop(index)
        steps.append(("event", event))
        if draw(st.integers(0, 4)) == 0:
            steps.append(("event", event))  # redelivered
    return steps


def replay(steps):
    state, facts, now = IncidentState("INC-1"), [], None
    for kind, item in steps:
        if kind == "tick":
            now = item if now is None else max(now, item)
        else:
            state = apply(state, item)
        state, new = advance(state, now=now, policy=POLICY)
        facts += new
    state, new = advance(state, now=END, policy=POLICY)
    return state, facts + list(new)


def alerts_and_closings(facts):
    return [f for f in facts if not isinstance(f, RecordingMeasured)]


@settings(max_examples=400, deadline=None)
@given(data=st.data(), events=incident_histories())
def test_any_watermark_respecting_order_announces_the_same_alerts(data, events):
    expected_state, expected_facts = canonical(events)
    state, facts = replay(data.draw(watermark_orders(events)))
    assert state == expected_state
    assert alerts_and_closings(facts) == alerts_and_closings(expected_facts)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), events=incident_histories())
def test_the_measurement_that_stands_is_the_same_in_any_order(data, events):
    _, expected = canonical(events)
    _, facts = replay(data.draw(watermark_orders(events)))
    last = [f for f in facts if isinstance(f, RecordingMeasured)][-1:]
    assert last == [f for f in expected if isinstance(f, RecordingMeasured)][-1:]


@settings(max_examples=300, deadline=None)
@given(events=incident_histories(), order=st.randoms(use_true_random=False))
def test_folding_is_order_insensitive_and_idempotent(events, order):
    shuffled = list(events) * 2
    order.shuffle(shuffled)
    a = b = IncidentState("INC-1")
    for e in events:
        a = apply(a, e)
    for e in shuffled:
        b = apply(b, e)
    assert a == b


def fold(events):
    state = IncidentState("INC-1")
    for e in events:
        state = apply(state, e)
    return state


@settings(max_examples=300, deadline=None)
@given(a=incident_histories(), b=incident_histories(), c=incident_histories())
def test_joining_states_is_a_semilattice_join(a, b, c):
    sa, sb, sc = fold(a), fold(b), fold(c)
    assert join(sa, sb) == join(sb, sa)
    assert join(join(sa, sb), sc) == join(sa, join(sb, sc))
    assert join(sa, sa) == sa


@settings(max_examples=300, deadline=None)
@given(a=incident_histories(), b=incident_histories())
def test_joining_two_folds_gives_the_fold_of_all_their_events(a, b):
    joined = join(fold(a), fold(b))
    whole = fold(a + b)
    assert joined == whole


@settings(max_examples=200, deadline=None)
@given(events=incident_histories(), data=st.data())
def test_a_store_that_joins_keeps_the_latest_knowledge_whatever_order_snapshots_arrive(
    events, data
):
    """Snapshots of one incident, written in any order, leave the most advanced one."""
    snapshots, state = [], IncidentState("INC-1")
    for event in events:
        state = apply(state, event)
        state, _ = advance(state, now=event_time(event), policy=POLICY)
        snapshots.append(state)
    state, _ = advance(state, now=END, policy=POLICY)
    snapshots.append(state)
    order = data.draw(st.permutations(snapshots))
    stored = order[0]
    for snapshot in order[1:]:
        stored = join(stored, snapshot)
    assert stored == state
