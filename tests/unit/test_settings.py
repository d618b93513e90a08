"""Settings come from CDI_* variables; a wrong one is a clear message, never a traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.settings import SettingsError, load_settings


def test_the_defaults_are_the_ncrs_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CDI_RECORDING_TARGET", "CDI_WARNING_BEFORE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.policy.target == timedelta(hours=24)
    assert settings.policy.warning == timedelta(hours=4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("86400", timedelta(days=1)),
        ("24h", timedelta(days=1)),
        ("PT24H", timedelta(days=1)),
        ("90m", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("35d", timedelta(days=35)),
    ],
)
def test_durations_are_read_in_several_forms(
    monkeypatch: pytest.MonkeyPatch, text, expected
) -> None:
    monkeypatch.setenv("CDI_STATE_RETENTION", text)
    assert load_settings().state_retention == expected


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CDI_WEB_PORT", "eighty", "CDI_WEB_PORT"),
        ("CDI_WEB_PORT", "70000", "CDI_WEB_PORT"),
        ("CDI_RECORDING_TARGET", "-5h", "CDI_RECORDING_TARGET"),
        ("CDI_WARNING_BEFORE", "30h", "CDI_WARNING_BEFORE must be shorter"),
        ("CDI_TOPIC_PARTITIONS", "0", "CDI_TOPIC_PARTITIONS"),
        ("CDI_INCIDENTS_TOPIC", "bad topic!", "CDI_INCIDENTS_TOPIC"),
    ],
)
def test_a_bad_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name, value, says
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert says in str(info.value)


def test_the_database_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDI_DATABASE_URL", "postgresql://cdi:s3cret-pw@db/ledger")
    settings = load_settings()
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)
