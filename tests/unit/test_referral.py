"""Victim-support referral rules: due dates in working days, the window, consent.

Due dates use the real England and Wales calendar (the pinned ``holidays``
package) and Europe/London time, so the table checks the dates a partner
would check against the published bank holidays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
from monitor.domain.incident import Report
from monitor.domain.inputs import CrimeVictim
from monitor.domain.referral import (
    ReferralAtRisk,
    ReferralDue,
    ReferralPolicy,
    ReferralWindow,
    ReferralWindowMissed,
    ReferralWithheld,
    WithheldReason,
    assess,
    referral_due_by,
    referral_facts,
)
from monitor.domain.working_days import WeekdaysOnly, add_working_days, next_working_day

LONDON = ZoneInfo("Europe/London")
POLICY = ReferralPolicy(calendar=EnglandAndWalesWorkingDays())
S = timedelta(seconds=1)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# (why, reported at (London local time), due by (London local time), offset of due by)
DUE_DATES = [
    ("a Monday: Wednesday", london(2024, 5, 13, 10, 0), london(2024, 5, 15, 17, 0), "+01:00"),
    ("late Friday: Tuesday", london(2024, 5, 17, 23, 30), london(2024, 5, 21, 17, 0), "+01:00"),
    ("a Saturday: Tuesday", london(2024, 5, 18, 12, 0), london(2024, 5, 21, 17, 0), "+01:00"),
    ("a Sunday: Tuesday", london(2024, 5, 19, 12, 0), london(2024, 5, 21, 17, 0), "+01:00"),
    ("after 17:00 still counts the day of the report", london(2024, 5, 13, 18, 0),
     london(2024, 5, 15, 17, 0), "+01:00"),
    ("00:30 BST Monday is Monday (23:30 UTC Sunday)", london(2024, 5, 20, 0, 30),
     london(2024, 5, 22, 17, 0), "+01:00"),
    ("early May bank holiday 2024 (Mon 6 May)", london(2024, 5, 3, 9, 0),
     london(2024, 5, 8, 17, 0), "+01:00"),
    ("Coronation 2023 (Mon 8 May) after May Day (Mon 1 May)", london(2023, 5, 5, 9, 0),
     london(2023, 5, 10, 17, 0), "+01:00"),
    ("Easter 2024 across the clocks going forward (31 Mar)", london(2024, 3, 28, 9, 0),
     london(2024, 4, 3, 17, 0), "+01:00"),
    ("Good Friday 2026 itself", london(2026, 4, 3, 11, 0), london(2026, 4, 8, 17, 0), "+01:00"),
    ("the Wednesday before Easter 2026", london(2026, 4, 1, 11, 0),
     london(2026, 4, 7, 17, 0), "+01:00"),
    ("clocks go back (Sun 27 Oct 2024)", london(2024, 10, 25, 16, 0),
     london(2024, 10, 29, 17, 0), "+00:00"),
    ("Christmas Eve 2026: Boxing Day observed on Mon 28", london(2026, 12, 24, 10, 0),
     london(2026, 12, 30, 17, 0), "+00:00"),
    ("23 Dec 2026", london(2026, 12, 23, 10, 0), london(2026, 12, 29, 17, 0), "+00:00"),
    ("Christmas 2022: Christmas Day observed on Tue 27", london(2022, 12, 23, 10, 0),
     london(2022, 12, 29, 17, 0), "+00:00"),
    ("Christmas Day 2027 (Sat): both substitutes, Mon 27 and Tue 28",
     london(2027, 12, 24, 10, 0), london(2027, 12, 30, 17, 0), "+00:00"),
    ("New Year 2022 observed on Mon 3 Jan", london(2021, 12, 31, 10, 0),
     london(2022, 1, 5, 17, 0), "+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("why", "reported", "due", "offset"), DUE_DATES, ids=[d[0] for d in DUE_DATES]
)
def test_a_referral_is_due_at_the_end_of_the_second_working_day_after_the_report(
    why: str, reported: datetime, due: datetime, offset: str
) -> None:
    got = referral_due_by(reported.astimezone(UTC), POLICY)
    assert got == due
    assert got.isoformat().endswith(offset), got.isoformat()
    assert (got.hour, got.minute) == (17, 0)


def test_england_and_wales_bank_holidays_are_not_working_days() -> None:
    calendar = EnglandAndWalesWorkingDays()
    for holiday in (date(2026, 12, 25), date(2026, 12, 28), date(2026, 4, 3), date(2026, 4, 6),
                    date(2026, 5, 4), date(2026, 5, 25), date(2026, 8, 31), date(2027, 1, 1),
                    date(2022, 9, 19)):  # fmt: skip
        assert not calendar.is_working_day(holiday), holiday
        assert calendar.holiday_name(holiday)
    assert calendar.is_working_day(date(2026, 12, 29))
    assert not calendar.is_working_day(date(2026, 12, 27))  # a Sunday
    # Scotland's 2 January is not a bank holiday in England and Wales.
    assert calendar.is_working_day(date(2024, 1, 2))


def test_the_end_of_the_working_day_and_the_number_of_days_are_policy() -> None:
    policy = replace(POLICY, working_days=1, end_of_day=datetime(2000, 1, 1, 16, 30).time())
    assert referral_due_by(london(2024, 5, 13, 10, 0), policy) == london(2024, 5, 14, 16, 30)


def test_working_days_skip_the_calendar_s_days_off_and_never_count_the_start_day() -> None:
    friday = date(2024, 5, 17)
    assert next_working_day(friday, WeekdaysOnly()) == date(2024, 5, 20)
    assert add_working_days(friday, 0, WeekdaysOnly()) == friday
    assert add_working_days(friday, 5, WeekdaysOnly()) == date(2024, 5, 24)


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    class Never:
        def is_working_day(self, day: date) -> bool:
            return False

    with pytest.raises(ValueError, match="no working day"):
        next_working_day(date(2024, 1, 1), Never())


def test_a_policy_rejects_a_zero_day_window_and_a_zoned_end_of_day() -> None:
    with pytest.raises(ValueError):
        ReferralPolicy(calendar=WeekdaysOnly(), working_days=0)
    with pytest.raises(ValueError):
        ReferralPolicy(
            calendar=WeekdaysOnly(), end_of_day=datetime(2000, 1, 1, 17, tzinfo=UTC).timetz()
        )


# Reported Monday 13 May 2024 10:00 BST (09:00Z); due Wednesday 15 May 17:00 BST
# (16:00Z): a 55-hour window, half spent at Tuesday 14 May 12:30Z.
REPORTED = london(2024, 5, 13, 10, 0)
DUE = london(2024, 5, 15, 17, 0)
HALF = datetime(2024, 5, 14, 12, 30, tzinfo=UTC)


def report(category: str = "violence") -> Report:
    return Report(
        event_id="rep-1",
        force="leicestershire",
        reported_at=REPORTED.astimezone(UTC),
        channel="999",
        category=category,
        crime_related=True,
        division="city",
    )


def victim(
    recorded_at: datetime = REPORTED + timedelta(hours=2),
    *,
    group: str = "violence_against_the_person",
    consents: bool | None = None,
    domestic_abuse: bool | None = None,
    bereaved: bool | None = None,
) -> CrimeVictim:
    return CrimeVictim(
        crime_id="CR-1",
        event_id="rec-CR-1",
        recorded_at=recorded_at,
        offence_code="8N",
        offence_group=group,
        victim_ref="V-7F3A91",
        consents=consents,
        domestic_abuse=domestic_abuse,
        bereaved_relative=bereaved,
    )


WINDOWS = [
    ("recorded at once", REPORTED, ReferralWindow.IN_TIME, [ReferralDue]),
    ("recorded before the report", REPORTED - timedelta(hours=1), ReferralWindow.IN_TIME,
     [ReferralDue]),
    ("1 s before half the window", HALF - S, ReferralWindow.IN_TIME, [ReferralDue]),
    ("exactly half the window", HALF, ReferralWindow.AT_RISK, [ReferralDue, ReferralAtRisk]),
    ("exactly at the due time", DUE, ReferralWindow.AT_RISK, [ReferralDue, ReferralAtRisk]),
    ("1 s after the due time", DUE + S, ReferralWindow.MISSED,
     [ReferralDue, ReferralWindowMissed]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("why", "recorded_at", "window", "facts"), WINDOWS, ids=[w[0] for w in WINDOWS]
)
def test_recording_delay_puts_the_referral_window_at_risk_or_misses_it(
    why: str, recorded_at: datetime, window: ReferralWindow, facts: list[type]
) -> None:
    referral = assess("INC-1", report(), victim(recorded_at), POLICY)
    assert referral.due_by == DUE
    assert referral.window is window
    assert [type(f) for f in referral_facts(referral)] == facts
    assert all(f.referral is referral for f in referral_facts(referral))


def test_the_window_spent_and_remaining_time_are_measured_in_elapsed_time() -> None:
    referral = assess("INC-1", report(), victim(HALF), POLICY)
    assert referral.window_spent == 0.5
    assert referral.remaining_seconds == 27.5 * 3600
    late = assess("INC-1", report(), victim(DUE + timedelta(hours=2)), POLICY)
    assert late.remaining_seconds == -7200


# (why, category of the incident, victim, withheld reason, consent required because)
CONSENT = [
    ("no consent needed, not stated", "violence", victim(), None, ()),
    ("no consent needed, given", "violence", victim(consents=True), None, ()),
    ("no consent needed, but the victim declined", "violence", victim(consents=False),
     WithheldReason.VICTIM_DECLINED, ()),
    ("sexual offence, consent given", "violence", victim(group="sexual_offences", consents=True),
     None, ("offence_group:sexual_offences",)),
    ("sexual offence, consent not stated", "violence", victim(group="sexual_offences"),
     WithheldReason.NO_EXPLICIT_CONSENT, ("offence_group:sexual_offences",)),
    ("sexual offence, consent refused", "violence", victim(group="sexual_offences", consents=False),
     WithheldReason.VICTIM_DECLINED, ("offence_group:sexual_offences",)),
    ("domestic abuse group", "violence", victim(group="domestic_abuse"),
     WithheldReason.NO_EXPLICIT_CONSENT, ("offence_group:domestic_abuse",)),
    ("flagged domestic abuse", "violence", victim(domestic_abuse=True),
     WithheldReason.NO_EXPLICIT_CONSENT, ("domestic_abuse",)),
    ("opened as a domestic abuse incident", "domestic_abuse", victim(),
     WithheldReason.NO_EXPLICIT_CONSENT, ("incident_category:domestic_abuse",)),
    ("opened as a sexual offence, consent given", "sexual_offence", victim(consents=True), None,
     ("incident_category:sexual_offence",)),
    ("a bereaved relative", "violence", victim(group="homicide", bereaved=True),
     WithheldReason.NO_EXPLICIT_CONSENT, ("bereaved_relative",)),
    ("a bereaved relative who consents", "violence", victim(bereaved=True, consents=True), None,
     ("bereaved_relative",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("why", "category", "who", "reason", "because"), CONSENT, ids=[c[0] for c in CONSENT]
)
def test_sexual_offences_domestic_abuse_and_bereaved_relatives_need_explicit_consent(
    why: str, category: str, who: CrimeVictim, reason: WithheldReason | None, because: tuple
) -> None:
    referral = assess("INC-1", report(category), who, POLICY)
    assert referral.withheld is reason
    assert referral.consent_required_because == because
    first = referral_facts(referral)[0]
    assert isinstance(first, ReferralDue if reason is None else ReferralWithheld)


def test_which_offence_groups_need_consent_is_configuration() -> None:
    policy = replace(POLICY, consent_offence_groups=frozenset({"robbery"}))
    assert assess("INC-1", report(), victim(group="sexual_offences"), policy).withheld is None
    robbed = assess("INC-1", report(), victim(group="robbery"), policy)
    assert robbed.withheld is WithheldReason.NO_EXPLICIT_CONSENT
