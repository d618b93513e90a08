"""Settings, read from the environment (prefix ``CDI_``) at the entry points only.

Durations accept seconds (``86400``), a number with a unit (``24h``, ``30m``,
``35d``, ``500ms``) or ISO 8601 (``PT24H``).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.domain.policy import TimelinessPolicy
from monitor.domain.referral import ReferralPolicy

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WITH_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _WITH_UNIT.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
TopicName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")]


class Settings(BaseSettings):
    """Everything an operator can set. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="CDI_", frozen=True, extra="ignore")

    # Where things are.
    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Comma-separated host:port list"
    )
    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///cdi-monitor.db"),
        description="SQLAlchemy URL of the ledger (PostgreSQL in production)",
    )
    web_host: str = "0.0.0.0"  # noqa: S104 - a worker in a container serves probes and metrics
    web_port: int = Field(default=6066, ge=1, le=65535)

    # Identity and topics.
    app_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$")] = "cdi-monitor"
    event_source: str = Field(default="urn:cdi-monitor", description="CloudEvents source")
    incidents_topic: TopicName = "incidents"
    crime_records_topic: TopicName = "crime-records"
    outcomes_topic: TopicName = "recording-outcomes"
    alerts_topic: TopicName = "recording-alerts"
    dead_letter_topic: TopicName = "cdi-dead-letters"
    referrals_topic: TopicName = "victim-referrals"
    schema_base_url: str = Field(
        default="urn:cdi-monitor:schemas:",
        min_length=1,
        max_length=400,
        description="Prefix of every event's dataschema: where schemas/json/ is published",
    )
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    topic_replication: int = Field(default=1, ge=1, le=10)

    # The rules.
    recording_target: Duration = timedelta(hours=24)
    warning_before: Duration = timedelta(hours=4)
    state_retention: Duration = timedelta(days=35)
    allowed_lateness: Duration = Field(
        default=timedelta(0),
        description="How late, in event time, an input may reach Kafka and still count in time",
    )

    # Victim-support referrals (the Victims' Code: 2 working days from the report).
    referral_working_days: int = Field(default=2, ge=1, le=30)
    referral_end_of_day: time = Field(
        default=time(17, 0), description="Local time (Europe/London) a working day ends"
    )
    referral_consent_offence_groups: str = Field(
        default="sexual_offences,domestic_abuse",
        description="Comma-separated offence groups whose referrals need explicit consent",
    )
    referral_consent_incident_categories: str = Field(
        default="sexual_offence,domestic_abuse",
        description="Comma-separated incident categories whose referrals need explicit consent",
    )

    # The stream processor.
    # Half a second: an overdue alert comes within about two ticks of its deadline.
    tick_interval: Duration = timedelta(milliseconds=500)
    startup_timeout: Duration = Field(
        default=timedelta(seconds=30), description="How long to wait for Kafka at start-up"
    )
    table_store: str = "memory://"
    max_event_bytes: int = Field(default=256 * 1024, ge=1024)
    batch_size: int = Field(
        default=1000, ge=1, description="Most input messages the clock handles as one batch"
    )
    ledger_batch_size: int = Field(
        default=20, ge=1, description="Most ledger messages (one per batch) per database write"
    )
    broker_session_timeout: Duration = timedelta(seconds=10)
    broker_rebalance_timeout: Duration = timedelta(seconds=10)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    dead_letter_raw_copy: bool = Field(
        default=False,
        description="Copy rejected values into dead letters byte for byte, victim fields "
        "included; by default every victim_* field is replaced by [redacted]",
    )

    # Label values from input are capped per label, so a producer cannot create
    # unbounded Prometheus series; the rest are counted under "other".
    metrics_max_forces: int = Field(default=64, ge=1, le=10_000)
    metrics_max_divisions: int = Field(default=1000, ge=1, le=100_000)
    metrics_max_categories: int = Field(default=64, ge=1, le=10_000)

    # The internal audit: how often a worker reads the audit figures it exports.
    audit_metrics_refresh: Duration = Field(
        default=timedelta(seconds=60),
        description="How often the worker reads cdi_audit_recording_rate from the database",
    )

    # An accelerated clock for demonstrations: simulated time runs `clock_rate`
    # times faster than real time from `clock_origin`.
    clock_rate: float = Field(default=1.0, gt=0)
    clock_origin: AwareDatetime | None = None

    # The live board (`cdi-monitor board`). See docs/board.md.
    board_host: str = "127.0.0.1"
    board_port: int = Field(default=8080, ge=1, le=65535)
    board_secure_cookies: bool = Field(
        default=True, description="Mark cookies Secure; turn off only for plain http off localhost"
    )
    board_session_lifetime: Duration = Field(
        default=timedelta(hours=12), description="A shift; the user signs in again after it"
    )
    board_timezone: str = Field(default="Europe/London", description="Where 'today' is")
    board_sso_header: str | None = Field(
        default=None, description="Trusted reverse-proxy header naming the signed-in user"
    )
    board_trusted_proxies: str = Field(
        default="", description="Comma-separated addresses/networks allowed to send that header"
    )

    # Kafka security (see monitor/adapters/kafka/clients.py, which turns these into
    # client settings for every Kafka client the project creates).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle (PEM); else system")
    kafka_ssl_certfile: str | None = Field(default=None, description="client certificate (PEM)")
    kafka_ssl_keyfile: str | None = Field(default=None, description="client private key (PEM)")
    kafka_ssl_key_password: SecretStr | None = None
    kafka_ssl_check_hostname: bool = True

    @field_validator(
        "recording_target",
        "warning_before",
        "state_retention",
        "tick_interval",
        "audit_metrics_refresh",
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    @field_validator("allowed_lateness")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("board_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known time zone (e.g. Europe/London)") from None
        return value

    @field_validator("board_trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        import ipaddress

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.warning_before >= self.recording_target:
            raise ValueError("CDI_WARNING_BEFORE must be shorter than CDI_RECORDING_TARGET")
        return self

    @field_validator("referral_end_of_day")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("must be a local time without an offset, e.g. 17:00")
        return value

    @field_validator("referral_consent_offence_groups", "referral_consent_incident_categories")
    @classmethod
    def _slugs(cls, value: str) -> str:
        for item in _comma_list(value):
            if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", item):
                raise ValueError(f"{item!r} is not an offence group or category name")
        return value

    @model_validator(mode="after")
    def _kafka_security_complete(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"CDI_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "CDI_KAFKA_SASL_USERNAME and CDI_KAFKA_SASL_PASSWORD"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("CDI_KAFKA_SSL_CERTFILE and CDI_KAFKA_SSL_KEYFILE go together")
        return self

    @property
    def policy(self) -> TimelinessPolicy:
        return TimelinessPolicy(
            target=self.recording_target,
            warning=self.warning_before,
            retention=self.state_retention,
            referrals=self.referral_policy,
        )

    @property
    def referral_policy(self) -> ReferralPolicy:
        # Imported here: the calendar adapter loads the holidays package.
        from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays

        return ReferralPolicy(
            calendar=EnglandAndWalesWorkingDays(),
            working_days=self.referral_working_days,
            end_of_day=self.referral_end_of_day,
            consent_offence_groups=frozenset(_comma_list(self.referral_consent_offence_groups)),
            consent_incident_categories=frozenset(
                _comma_list(self.referral_consent_incident_categories)
            ),
        )


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable and the fix."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning a validation error into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            name = f"CDI_{field.upper()}" if field else "settings"
            value = error.get("input")
            secret = any(word in field for word in ("url", "password"))
            shown = "" if secret or isinstance(value, dict) else f" (got {value!r})"
            lines.append(f"  {name}: {error['msg']}{shown}")
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None
