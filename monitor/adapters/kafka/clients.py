"""Every Kafka client the project creates gets its connection settings here, and only here.

The worker (Faust), the topic admin (kafka-python), the simulator, the demo,
the live board's feed, ``subscribe`` (kafka-python) and the benchmark
(aiokafka) all connect through these functions, so TLS and
SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) set once in ``Settings`` apply to
all of them:

- ``aiokafka_options(settings, client_id=...)``: keyword arguments for
  ``AIOKafkaProducer`` / ``AIOKafkaConsumer`` / ``AIOKafkaAdminClient``;
- ``kafka_python_options(settings, client_id=...)``: the same for
  kafka-python's ``KafkaProducer`` / ``KafkaConsumer`` / ``KafkaAdminClient``;
- ``faust_credentials(settings)``: ``broker_credentials`` for ``faust.App``;
- ``describe(settings)``: a one-line, secret-free summary for logs.

Secrets stay ``SecretStr`` until the moment a client is built; the dicts
returned here hold the password in clear, so never log them: log
``describe(settings)``.
"""

from __future__ import annotations

import ssl
from typing import Any

from monitor.settings import Settings


def bootstrap_servers(settings: Settings) -> list[str]:
    return [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]


def uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context (the given CA, else the system's), with the client key if set."""
    if not uses_tls(settings):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.kafka_ssl_cafile)
    context.check_hostname = settings.kafka_ssl_check_hostname
    if settings.kafka_ssl_certfile and settings.kafka_ssl_keyfile:
        key_password = settings.kafka_ssl_key_password
        context.load_cert_chain(
            settings.kafka_ssl_certfile,
            settings.kafka_ssl_keyfile,
            password=key_password.get_secret_value() if key_password else None,
        )
    return context


def _sasl(settings: Settings) -> dict[str, Any]:
    if not uses_sasl(settings):
        return {}
    password = settings.kafka_sasl_password
    return {
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": password.get_secret_value() if password else None,
    }


def aiokafka_options(settings: Settings, *, client_id: str) -> dict[str, Any]:
    """Connection keyword arguments for any aiokafka client."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": client_id,
        "security_protocol": settings.kafka_security_protocol,
        **_sasl(settings),
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def kafka_python_options(settings: Settings, *, client_id: str) -> dict[str, Any]:
    """Connection keyword arguments for any kafka-python client (same names as aiokafka's)."""
    return aiokafka_options(settings, client_id=client_id)


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for ``faust.App``: None, SSL or SASL (over TLS when SASL_SSL)."""
    from faust.auth import SASLCredentials, SSLCredentials

    context = ssl_context(settings)
    if uses_sasl(settings):
        password = settings.kafka_sasl_password
        return SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return SSLCredentials(context)
    return None


def describe(settings: Settings) -> str:
    """How the clients connect, for a log line: never the password."""
    parts = [settings.kafka_bootstrap_servers, settings.kafka_security_protocol]
    if uses_sasl(settings):
        parts.append(f"{settings.kafka_sasl_mechanism} as {settings.kafka_sasl_username}")
    if uses_tls(settings):
        parts.append(f"CA {settings.kafka_ssl_cafile or 'system'}")
        if settings.kafka_ssl_certfile:
            parts.append(f"client certificate {settings.kafka_ssl_certfile}")
    return ", ".join(parts)
