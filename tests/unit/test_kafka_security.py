"""Kafka TLS and SASL settings reach every client, and the secrets never leak.

The test certificate and key in ``tests/support/tls`` are self-signed and exist
only for these tests.
"""

from __future__ import annotations

import inspect
import logging
import ssl
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient
from prometheus_client import generate_latest

from monitor.adapters.clock import SystemClock
from monitor.adapters.kafka.clients import (
    aiokafka_options,
    describe,
    faust_credentials,
    kafka_python_options,
)
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.sql.ledger_writer import ThreadLedgerWriter
from monitor.application.ledger import InMemoryLedger
from monitor.settings import Settings, SettingsError, load_settings
from streams.app import build

TLS = Path(__file__).resolve().parents[1] / "support" / "tls"
PASSWORD = "sasl-Pa55word-that-must-never-show"  # noqa: S105 - a test value
KEY_PASSWORD = "test-only-key-password"  # noqa: S105 - protects the committed test key


def secured(**overrides: object) -> Settings:
    values: dict[str, object] = dict(
        kafka_bootstrap_servers="kafka-1:9093, kafka-2:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="cdi-monitor",
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=str(TLS / "client-cert.pem"),
        kafka_ssl_certfile=str(TLS / "client-cert.pem"),
        kafka_ssl_keyfile=str(TLS / "client-key.pem"),
        kafka_ssl_key_password=KEY_PASSWORD,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_by_default_clients_connect_in_plaintext_with_no_credentials() -> None:
    options = aiokafka_options(Settings(), client_id="x")
    assert options == {
        "bootstrap_servers": ["localhost:9092"],
        "client_id": "x",
        "security_protocol": "PLAINTEXT",
    }
    assert faust_credentials(Settings()) is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_gives_each_client_the_mechanism_the_user_and_a_verifying_context(
    mechanism: str,
) -> None:
    options = aiokafka_options(secured(kafka_sasl_mechanism=mechanism), client_id="x")
    assert options["bootstrap_servers"] == ["kafka-1:9093", "kafka-2:9093"]
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == mechanism
    assert options["sasl_plain_username"] == "cdi-monitor"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_without_tls_has_no_tls_context() -> None:
    options = aiokafka_options(secured(kafka_security_protocol="SASL_PLAINTEXT"), client_id="x")
    assert options["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in options


def test_tls_alone_sends_no_sasl_settings_and_may_skip_the_hostname_check() -> None:
    options = aiokafka_options(
        secured(kafka_security_protocol="SSL", kafka_ssl_check_hostname=False), client_id="x"
    )
    assert not any(name.startswith("sasl") for name in options)
    assert options["ssl_context"].check_hostname is False


def test_a_wrong_key_password_fails_when_the_context_is_built() -> None:
    with pytest.raises(ssl.SSLError):
        aiokafka_options(secured(kafka_ssl_key_password="wrong"), client_id="x")  # noqa: S106


@pytest.mark.parametrize(
    "client",
    [AIOKafkaProducer, AIOKafkaConsumer],
    ids=["aiokafka producer", "aiokafka consumer"],
)
def test_every_option_is_one_the_aiokafka_clients_take(client: type) -> None:
    accepted = set(inspect.signature(client.__init__).parameters)
    assert set(aiokafka_options(secured(), client_id="x")) <= accepted


@pytest.mark.parametrize("client", [KafkaAdminClient, KafkaConsumer])
def test_every_option_is_one_the_kafka_python_clients_take(client: type) -> None:
    options = kafka_python_options(secured(), client_id="x")
    assert set(options) <= set(client.DEFAULT_CONFIG)  # type: ignore[attr-defined]


def test_the_worker_gives_faust_sasl_credentials_over_tls() -> None:
    settings = secured(kafka_sasl_mechanism="SCRAM-SHA-256")
    monitor = build(
        settings,
        Topology.from_settings(settings, 1, 1),
        clock=SystemClock(),
        ledger=ThreadLedgerWriter(InMemoryLedger(), settings.policy),
    )
    credentials = monitor.app.conf.broker_credentials
    assert isinstance(credentials, SASLCredentials)
    # What Faust's aiokafka driver hands its consumer and producer:
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-256"
    assert auth["sasl_plain_username"] == "cdi-monitor"
    assert auth["sasl_plain_password"] == PASSWORD
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert PASSWORD not in repr(credentials)
    assert PASSWORD.encode() not in generate_latest(monitor.metrics.registry)
    _, health = monitor.health()
    assert PASSWORD not in repr(health)


def test_tls_without_sasl_gives_faust_ssl_credentials() -> None:
    credentials = faust_credentials(secured(kafka_security_protocol="SSL"))
    assert isinstance(credentials, SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"


def test_secrets_are_hidden_in_reprs_dumps_and_the_log_summary() -> None:
    settings = secured()
    for text in (repr(settings), str(settings), settings.model_dump_json(), describe(settings)):
        assert PASSWORD not in text and KEY_PASSWORD not in text
    assert describe(settings) == (
        f"kafka-1:9093, kafka-2:9093, SASL_SSL, SCRAM-SHA-512 as cdi-monitor, "
        f"CA {TLS / 'client-cert.pem'}, client certificate {TLS / 'client-cert.pem'}"
    )


def test_sasl_without_a_username_is_refused_without_echoing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CDI_KAFKA_SASL_PASSWORD", PASSWORD)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "CDI_KAFKA_SASL_USERNAME" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_a_bad_password_value_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(kafka_ssl_key_password=["not", PASSWORD])
    assert "CDI_KAFKA_SSL_KEY_PASSWORD" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_an_unknown_mechanism_is_refused_naming_the_choices() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(kafka_sasl_mechanism="GSSAPI")
    assert "CDI_KAFKA_SASL_MECHANISM" in str(info.value) and "SCRAM-SHA-256" in str(info.value)


def test_a_certificate_without_its_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="CDI_KAFKA_SSL_KEYFILE"):
        load_settings(kafka_ssl_certfile="/etc/cert.pem")


def test_building_clients_logs_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = secured()
    aiokafka_options(settings, client_id="x")
    build(
        settings,
        Topology.from_settings(settings, 1, 1),
        clock=SystemClock(),
        ledger=ThreadLedgerWriter(InMemoryLedger(), settings.policy),
    )
    assert PASSWORD not in caplog.text and KEY_PASSWORD not in caplog.text
