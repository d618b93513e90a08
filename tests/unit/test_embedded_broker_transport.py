"""The embedded broker gets its own consumer (short fetch wait, true end offsets)."""

from __future__ import annotations

import inspect

from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport

from monitor.adapters.clock import SystemClock
from monitor.adapters.faust.consumer import SafeSeekConsumer, SafeSeekTransport
from monitor.adapters.faust.embedded_consumer import (
    EMBEDDED_FETCH_MAX_WAIT_MS,
    EmbeddedBrokerTransport,
)
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.sql.ledger_writer import ThreadLedgerWriter
from monitor.application.ledger import InMemoryLedger
from monitor.settings import Settings
from streams.app import build


def transport(embedded: bool) -> object:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1")
    monitor = build(
        settings,
        Topology.from_settings(settings, 1, 1, embedded_broker=embedded),
        clock=SystemClock(),
        ledger=ThreadLedgerWriter(InMemoryLedger(), settings.policy),
    )
    return monitor.app.transport


def test_the_embedded_broker_gets_the_short_fetch_wait() -> None:
    assert isinstance(transport(embedded=True), EmbeddedBrokerTransport)


def test_a_real_kafka_keeps_fausts_fetch_wait_with_the_safe_seek_consumer() -> None:
    chosen = transport(embedded=False)
    assert type(chosen) is SafeSeekTransport
    assert issubclass(SafeSeekTransport, Transport)
    assert chosen.Consumer is SafeSeekConsumer


async def test_aiokafka_still_builds_its_fetcher_from_the_attribute_the_override_sets() -> None:
    # The override writes aiokafka's private attribute before start(): fail if that moves.
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", fetch_max_wait_ms=1500)
    assert consumer._fetch_max_wait_ms == 1500
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
    assert 0 < EMBEDDED_FETCH_MAX_WAIT_MS < 1500  # shorter than the 1.5 s Faust asks for
