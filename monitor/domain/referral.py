"""Victim-support referrals: when a victim's details are due, and whether they may be sent.

The Victims' Code entitles a victim to have their details passed to victim
support services within 2 working days of reporting the crime. Referral is
triggered by the crime record, so recording delay eats into that window.

The rules, in event time:

- **Due by.** Take the local date of the report in ``policy.timezone``
  (Europe/London). Count ``policy.working_days`` (2) working days after it;
  the report's own day never counts. The referral is due at
  ``policy.end_of_day`` (17:00) local time on the last of them. Reported on
  Monday (any time), due Wednesday 17:00; on Friday, Saturday or Sunday, due
  Tuesday 17:00; reported on Thursday before Good Friday, due Tuesday 17:00
  after Easter Monday. The local clock time is kept across BST/GMT changes.
- **At risk.** The crime was recorded when at least half of the window from
  the report to ``due_by`` (measured in elapsed time) had passed, and not
  after ``due_by``.
- **Window missed.** The crime was recorded after ``due_by`` (exactly at
  ``due_by`` is in time).
- **Consent.** Explicit consent is needed when the offence group is one of
  ``policy.consent_offence_groups``, the crime is flagged domestic abuse, the
  incident was opened in one of ``policy.consent_incident_categories``, or the
  victim is a bereaved relative. Without a ``true`` consent the referral is
  withheld. For other crimes details are passed unless the victim declined
  (consent ``false``), which is also withheld.

Every crime with a victim reference gets exactly one of due or withheld; at
risk or window missed come in addition, because the partner still needs the
referral however late it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from monitor.domain.incident import Report
from monitor.domain.inputs import CrimeVictim
from monitor.domain.working_days import WorkingDayCalendar, add_working_days

VICTIMS_CODE_WORKING_DAYS = 2
"""Victims' Code: details passed to victim services within 2 working days of the report."""


def _london() -> tzinfo:
    return ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class ReferralPolicy:
    """How referral deadlines are counted and which referrals need explicit consent."""

    calendar: WorkingDayCalendar
    working_days: int = VICTIMS_CODE_WORKING_DAYS
    end_of_day: time = time(17, 0)
    timezone: tzinfo = field(default_factory=_london)
    consent_offence_groups: frozenset[str] = frozenset({"sexual_offences", "domestic_abuse"})
    consent_incident_categories: frozenset[str] = frozenset({"sexual_offence", "domestic_abuse"})

    def __post_init__(self) -> None:
        if self.working_days < 1:
            raise ValueError("the referral window must be at least one working day")
        if self.end_of_day.tzinfo is not None:
            raise ValueError("the end of the working day is a local clock time, without a zone")


def referral_due_by(reported_at: datetime, policy: ReferralPolicy) -> datetime:
    """The end of the working day ``policy.working_days`` working days after the report's date."""
    local_date = reported_at.astimezone(policy.timezone).date()
    last_day = add_working_days(local_date, policy.working_days, policy.calendar)
    # combine() with a ZoneInfo gives the offset in force on that day (BST or GMT).
    return datetime.combine(last_day, policy.end_of_day, tzinfo=policy.timezone)


class WithheldReason(StrEnum):
    NO_EXPLICIT_CONSENT = "no_explicit_consent"
    """Consent is required for this crime and was not recorded as given."""
    VICTIM_DECLINED = "victim_declined"
    """The victim said no to a referral."""


class ReferralWindow(StrEnum):
    IN_TIME = "in_time"
    AT_RISK = "at_risk"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Referral:
    """One victim's referral, assessed from the incident's report and the crime record."""

    incident_id: str
    report: Report
    victim: CrimeVictim
    due_by: datetime
    consent_required_because: tuple[str, ...]
    withheld: WithheldReason | None

    @property
    def crime_id(self) -> str:
        return self.victim.crime_id

    @property
    def recorded_at(self) -> datetime:
        return self.victim.recorded_at

    @property
    def window_spent(self) -> float:
        """The share of the report-to-due window gone when the crime was recorded (0 if before)."""
        window = (self.due_by - self.report.reported_at).total_seconds()
        spent = (self.recorded_at - self.report.reported_at).total_seconds()
        return max(spent, 0.0) / window if window > 0 else 1.0

    @property
    def remaining_seconds(self) -> float:
        """Time left to refer when the crime was recorded; negative once the window is missed."""
        return (self.due_by - self.recorded_at).total_seconds()

    @property
    def window(self) -> ReferralWindow:
        if self.recorded_at > self.due_by:
            return ReferralWindow.MISSED
        if self.window_spent >= 0.5:
            return ReferralWindow.AT_RISK
        return ReferralWindow.IN_TIME


def consent_required_because(
    report: Report, victim: CrimeVictim, policy: ReferralPolicy
) -> tuple[str, ...]:
    """Why this referral needs the victim's explicit consent (empty when it does not)."""
    reasons = []
    if victim.offence_group in policy.consent_offence_groups:
        reasons.append(f"offence_group:{victim.offence_group}")
    if victim.domestic_abuse:
        reasons.append("domestic_abuse")
    if report.category in policy.consent_incident_categories:
        reasons.append(f"incident_category:{report.category}")
    if victim.bereaved_relative:
        reasons.append("bereaved_relative")
    return tuple(reasons)


def assess(
    incident_id: str, report: Report, victim: CrimeVictim, policy: ReferralPolicy
) -> Referral:
    """The referral of ``victim``: when it is due and whether it may be sent."""
    because = consent_required_because(report, victim, policy)
    withheld: WithheldReason | None = None
    if victim.consents is False:
        withheld = WithheldReason.VICTIM_DECLINED
    elif because and victim.consents is not True:
        withheld = WithheldReason.NO_EXPLICIT_CONSENT
    return Referral(
        incident_id=incident_id,
        report=report,
        victim=victim,
        due_by=referral_due_by(report.reported_at, policy),
        consent_required_because=because,
        withheld=withheld,
    )


@dataclass(frozen=True, slots=True)
class ReferralDue:
    """The victim's details may be passed on, and by when."""

    referral: Referral


@dataclass(frozen=True, slots=True)
class ReferralWithheld:
    """A referral that must not be made without consent; it never carries the victim's data."""

    referral: Referral


@dataclass(frozen=True, slots=True)
class ReferralAtRisk:
    """The crime was recorded with at least half the referral window already spent."""

    referral: Referral


@dataclass(frozen=True, slots=True)
class ReferralWindowMissed:
    """The crime was recorded after the referral was due."""

    referral: Referral


ReferralFact = ReferralDue | ReferralWithheld | ReferralAtRisk | ReferralWindowMissed


def referral_facts(referral: Referral) -> tuple[ReferralFact, ...]:
    """Due or withheld, then at risk or window missed when recording delay hurt the window."""
    first: ReferralFact = (
        ReferralDue(referral) if referral.withheld is None else ReferralWithheld(referral)
    )
    match referral.window:
        case ReferralWindow.AT_RISK:
            return (first, ReferralAtRisk(referral))
        case ReferralWindow.MISSED:
            return (first, ReferralWindowMissed(referral))
    return (first,)
