"""A worker configured for SASL sends its credentials to the broker and never prints them.

The embedded broker (tansu) speaks neither SASL nor TLS to clients, so the
handshake is refused: what this shows is that the settings reach the real
client (the broker answers a SASL handshake it was sent) and that the
failure is reported without the password.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from monitor.adapters.kafka.clients import aiokafka_options
from monitor.adapters.sql.migrate import upgrade
from monitor.settings import Settings
from tests.support.worker import Deployment

pytestmark = pytest.mark.integration

PASSWORD = "worker-Pa55word-that-must-never-show"  # noqa: S105 - a test value


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_a_worker_with_sasl_settings_attempts_sasl_and_keeps_the_password_out_of_its_output(
    broker: str, postgres_url: str, log_dir: Path, mechanism: str
) -> None:
    upgrade(postgres_url)
    d = Deployment(
        bootstrap=broker,
        database_url=postgres_url,
        extra={
            "CDI_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "CDI_KAFKA_SASL_MECHANISM": mechanism,
            "CDI_KAFKA_SASL_USERNAME": "cdi-monitor",
            "CDI_KAFKA_SASL_PASSWORD": PASSWORD,
            "CDI_STARTUP_TIMEOUT": "3s",
            "CDI_LOG_LEVEL": "debug",
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "worker"],
        env=d.env(web_port=1),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    (log_dir / f"sasl-worker-{mechanism}.log").write_text(output)
    assert result.returncode == 2, output
    assert f"cannot reach Kafka at {broker}, SASL_PLAINTEXT, {mechanism} as cdi-monitor" in output
    assert PASSWORD not in output


async def test_an_aiokafka_client_built_from_the_settings_performs_the_sasl_handshake(
    broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=broker,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="cdi-monitor",
        kafka_sasl_password=PASSWORD,
    )
    caplog.set_level(logging.DEBUG)
    producer = AIOKafkaProducer(**aiokafka_options(settings, client_id="sasl-test"))
    with pytest.raises(KafkaConnectionError) as info:
        await producer.start()
    await producer.stop()
    # tansu answers the handshake: it does not support the mechanism. A client
    # that had not been given SASL settings would have connected.
    assert "UnsupportedSaslMechanism" in caplog.text
    assert PASSWORD not in caplog.text and PASSWORD not in str(info.value)
