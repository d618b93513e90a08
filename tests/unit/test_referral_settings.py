"""Referral settings: defaults from the Victims' Code, overrides, and one-line errors."""

from __future__ import annotations

from datetime import time

import pytest

from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
from monitor.settings import SettingsError, load_settings


def test_the_defaults_are_two_working_days_to_17_00_with_consent_for_the_victims_code_groups():
    settings = load_settings()
    policy = settings.policy.referrals
    assert policy is not None
    assert isinstance(policy.calendar, EnglandAndWalesWorkingDays)
    assert (policy.working_days, policy.end_of_day) == (2, time(17, 0))
    assert policy.consent_offence_groups == {"sexual_offences", "domestic_abuse"}
    assert policy.consent_incident_categories == {"sexual_offence", "domestic_abuse"}
    assert settings.referrals_topic == "victim-referrals"
    assert settings.schema_base_url == "urn:cdi-monitor:schemas:"


def test_the_referral_rules_can_be_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDI_REFERRAL_WORKING_DAYS", "3")
    monkeypatch.setenv("CDI_REFERRAL_END_OF_DAY", "16:30")
    monkeypatch.setenv("CDI_REFERRAL_CONSENT_OFFENCE_GROUPS", "sexual_offences, robbery")
    monkeypatch.setenv("CDI_REFERRAL_CONSENT_INCIDENT_CATEGORIES", "")
    policy = load_settings().policy.referrals
    assert policy is not None
    assert (policy.working_days, policy.end_of_day) == (3, time(16, 30))
    assert policy.consent_offence_groups == {"sexual_offences", "robbery"}
    assert policy.consent_incident_categories == frozenset()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CDI_REFERRAL_WORKING_DAYS", "0"),
        ("CDI_REFERRAL_END_OF_DAY", "17:00+01:00"),
        ("CDI_REFERRAL_END_OF_DAY", "teatime"),
        ("CDI_REFERRAL_CONSENT_OFFENCE_GROUPS", "Sexual Offences"),
        ("CDI_REFERRALS_TOPIC", "victim referrals"),
    ],
)
def test_a_bad_referral_setting_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
