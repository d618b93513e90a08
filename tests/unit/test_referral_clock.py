"""Referrals announced by the recording clock: once per crime, from its first-named incident,
in any arrival order, rebuilt identically after a restart, and encoded to their published schema."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from prometheus_client import CollectorRegistry

from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.state_codec import decode_state, encode_state
from monitor.adapters.wire.internal_messages import LinksBatch, decode_links, encode_links
from monitor.adapters.wire.outbound import Stream, encode_fact
from monitor.domain.incident import IncidentState, apply, join
from monitor.domain.inputs import CrimeLinked, CrimeRecorded, links_of
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import advance
from monitor.domain.referral import (
    ReferralAtRisk,
    ReferralDue,
    ReferralPolicy,
    ReferralWindowMissed,
    ReferralWithheld,
)
from schemas.export import JSON_DIR, OUTPUTS
from tests.unit.builders import reported

POLICY = TimelinessPolicy(referrals=ReferralPolicy(calendar=EnglandAndWalesWorkingDays()))
# Thursday 24 December 2026, 10:00 GMT: due Wednesday 30 December 17:00 (Christmas Day,
# the weekend and Boxing Day observed on Monday 28 do not count): a 151-hour window,
# at risk from 75.5 hours.
REPORTED = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
DUE = "2026-12-30T17:00:00Z"
H = timedelta(hours=1)


def crime(
    crime_id: str = "CR-1",
    incidents: tuple[str, ...] = ("INC-1",),
    at: datetime = REPORTED + 2 * H,
    *,
    victim: str | None = "V-7F3A91",
    group: str = "violence_against_the_person",
    consents: bool | None = None,
) -> CrimeRecorded:
    return CrimeRecorded(
        event_id=f"rec-{crime_id}",
        crime_id=crime_id,
        incident_ids=incidents,
        recorded_at=at,
        offence_code="8N",
        offence_group=group,
        victim_ref=victim,
        victim_consents_to_referral=consents,
    )


def fold(incident: str, *events) -> IncidentState:  # type: ignore[no-untyped-def]
    state = IncidentState(incident)
    for event in events:
        state = apply(state, event)
    return state


def announce(state: IncidentState, policy: TimelinessPolicy = POLICY):  # type: ignore[no-untyped-def]
    return advance(state, now=None, policy=policy)


def referral_facts(facts) -> list:  # type: ignore[no-untyped-def]
    kinds = (ReferralDue, ReferralWithheld, ReferralAtRisk, ReferralWindowMissed)
    return [f for f in facts if isinstance(f, kinds)]


def test_a_crime_with_a_victim_announces_its_referral_once() -> None:
    state = fold("INC-1", reported(REPORTED), *links_of(crime()))
    state, facts = announce(state)
    (due,) = referral_facts(facts)
    assert isinstance(due, ReferralDue)
    assert due.referral.due_by == datetime.fromisoformat(DUE)
    assert state.announced.referred == {"CR-1"}
    again, more = announce(state)
    assert again == state and more == ()


def test_a_crime_without_a_victim_reference_has_no_referral() -> None:
    state = fold("INC-1", reported(REPORTED), *links_of(crime(victim=None)))
    assert referral_facts(announce(state)[1]) == []


def test_a_crime_recorded_before_its_report_arrives_is_referred_when_the_report_comes() -> None:
    held = fold("INC-1", *links_of(crime()))
    assert referral_facts(announce(held)[1]) == []
    _, facts = announce(apply(held, reported(REPORTED)))
    assert [type(f) for f in referral_facts(facts)] == [ReferralDue]


def test_a_crime_naming_several_incidents_is_referred_once_by_the_first_named() -> None:
    links = links_of(crime(incidents=("INC-2", "INC-1", "INC-2")))
    assert [(link.incident_id, link.victim is not None) for link in links] == [
        ("INC-2", True),
        ("INC-1", False),
    ]
    first = fold("INC-2", reported(REPORTED, incident="INC-2"), links[0])
    other = fold("INC-1", reported(REPORTED), links[1])
    assert len(referral_facts(announce(first)[1])) == 1
    assert referral_facts(announce(other)[1]) == []


def test_two_crimes_for_one_incident_give_two_referrals() -> None:
    state = fold(
        "INC-1",
        reported(REPORTED),
        *links_of(crime("CR-1")),
        *links_of(crime("CR-2", group="sexual_offences", at=REPORTED + 100 * H)),
    )
    facts = referral_facts(announce(state)[1])
    assert [(type(f).__name__, f.referral.crime_id) for f in facts] == [
        ("ReferralDue", "CR-1"),
        ("ReferralWithheld", "CR-2"),
        ("ReferralAtRisk", "CR-2"),
    ]


def test_any_arrival_order_announces_the_same_referrals() -> None:
    late = crime("CR-9", at=REPORTED + 200 * H, consents=False)
    events = [reported(REPORTED), *links_of(crime()), *links_of(late)]
    outcomes = set()
    for order in itertools.permutations(events):
        state, announced = IncidentState("INC-1"), []
        for event in order:
            state, facts = announce(apply(state, event))
            announced.extend(referral_facts(facts))
        outcomes.add((state, tuple(sorted(announced, key=repr))))
    assert len(outcomes) == 1
    ((state, facts),) = outcomes
    assert {type(f) for f in facts} == {ReferralDue, ReferralWithheld, ReferralWindowMissed}


def test_joining_two_copies_keeps_every_victim_and_every_referral_announced() -> None:
    a, _ = announce(fold("INC-1", reported(REPORTED), *links_of(crime("CR-1"))))
    b = fold("INC-1", *links_of(crime("CR-2")))
    joined = join(a, b)
    assert [v.crime_id for v in joined.victims] == ["CR-1", "CR-2"]
    assert joined.announced.referred == {"CR-1"}
    assert join(b, a) == joined and join(joined, joined) == joined
    _, facts = announce(joined)
    assert [f.referral.crime_id for f in referral_facts(facts)] == ["CR-2"]


def test_without_a_referral_policy_nothing_is_referred() -> None:
    state = fold("INC-1", reported(REPORTED), *links_of(crime()))
    assert referral_facts(announce(state, TimelinessPolicy())[1]) == []


def test_the_state_codec_round_trips_victims_and_referrals() -> None:
    state, _ = announce(fold("INC-1", reported(REPORTED), *links_of(crime(consents=True))))
    assert state.victims and state.announced.referred
    assert decode_state(encode_state(state)) == state
    (victim,) = state.victims
    link = CrimeLinked("e", "INC-1", "CR-1", REPORTED, victim)
    (record,) = encode_links([link], [])
    assert decode_links(record) == LinksBatch(links=[link])


def test_a_state_stored_before_referrals_existed_still_decodes_and_encodes_the_same() -> None:
    old = (
        b'{"incident_id":"INC-1","report":{"event_id":"rep-INC-1","force":"leicestershire",'
        b'"reported_at":"2024-05-01T09:00:00Z","channel":"999","category":"violence",'
        b'"crime_related":true,"division":"city","grade":"2"},"recording":{"crime_id":"CR-1",'
        b'"recorded_at":"2024-05-01T10:00:00Z"},"last_event_at":"2024-05-01T10:00:00Z",'
        b'"announced":{"measured_crime":"CR-1"}}'
    )
    state = decode_state(old)
    assert state.victims == () and state.announced.referred == frozenset()
    assert encode_state(state) == old
    assert referral_facts(announce(state)[1]) == []  # nothing re-announced after an upgrade


def schema_of(event_type: str) -> dict:
    return json.loads((JSON_DIR / f"{event_type}.schema.json").read_text())


@pytest.mark.parametrize(
    ("recorded_after", "group", "consents", "types"),
    [
        (2 * H, "violence_against_the_person", None, ["cdi.victim.referral_due"]),
        (100 * H, "sexual_offences", None,
         ["cdi.victim.referral_withheld", "cdi.victim.referral_at_risk"]),
        (200 * H, "burglary", True,
         ["cdi.victim.referral_due", "cdi.victim.referral_window_missed"]),
    ],
)  # fmt: skip
def test_referral_events_validate_against_their_published_schema_and_keep_victim_data_to_due(
    recorded_after: timedelta, group: str, consents: bool | None, types: list[str]
) -> None:
    record = crime(at=REPORTED + recorded_after, group=group, consents=consents)
    _, facts = announce(fold("INC-1", reported(REPORTED), *links_of(record)))
    outs = [encode_fact(f, source="urn:cdi-monitor") for f in referral_facts(facts)]
    assert [o.event_type for o in outs] == types
    for out in outs:
        event = json.loads(out.value)
        jsonschema.Draft202012Validator(
            schema_of(out.event_type), format_checker=jsonschema.FormatChecker()
        ).validate(event)
        OUTPUTS[out.event_type].model_validate_json(out.value)
        assert out.stream is Stream.REFERRALS and out.key == event["subject"] == "INC-1"
        assert event["time"] == record.recorded_at.isoformat().replace("+00:00", "Z")
        assert event["data"]["referral_due_by"] == DUE
        assert event["dataschema"] == f"urn:cdi-monitor:schemas:{out.event_type}.schema.json"
        has_victim = "victim_ref" in event["data"]
        assert has_victim == (out.event_type == "cdi.victim.referral_due")
        assert b"V-7F3A91" not in out.value or has_victim
    ids = {json.loads(o.value)["id"] for o in outs}
    assert len(ids) == len(outs)


def test_a_summer_due_time_is_published_with_its_bst_offset() -> None:
    summer = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)
    record = crime(at=summer + H)
    _, facts = announce(fold("INC-1", reported(summer), *links_of(record)))
    (out,) = [encode_fact(f, source="s") for f in referral_facts(facts)]
    assert json.loads(out.value)["data"]["referral_due_by"] == "2024-05-15T17:00:00+01:00"


def test_referrals_are_counted_by_outcome() -> None:
    metrics = Metrics(CollectorRegistry())
    record = crime(at=REPORTED + 200 * H, group="sexual_offences")
    _, facts = announce(fold("INC-1", reported(REPORTED), *links_of(record)))
    for fact in facts:
        metrics.count_fact(fact)
    registry = metrics.registry
    labels = {"force": "leicestershire"}
    assert (
        registry.get_sample_value(
            "cdi_referrals_withheld_total", {**labels, "reason": "no_explicit_consent"}
        )
        == 1
    )
    assert registry.get_sample_value("cdi_referrals_window_missed_total", labels) == 1
    assert registry.get_sample_value("cdi_referrals_due_total", labels) is None
    other = replace(crime(incidents=("INC-2",)), crime_id="CR-2")
    _, due = announce(fold("INC-2", reported(REPORTED, incident="INC-2"), *links_of(other)))
    for fact in due:
        metrics.count_fact(fact)
    assert registry.get_sample_value("cdi_referrals_due_total", labels) == 1
