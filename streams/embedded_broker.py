"""The worker's consumer on the embedded broker (tansu), which differs from Kafka twice.

**Fetch wait.** Faust gives its consumer ``fetch_max_wait_ms=1500`` (not a
setting). A Kafka broker answers a fetch as soon as a record arrives, so the
wait costs nothing. The embedded broker holds every fetch to the end of the
wait, so each hop through Kafka (crime-router to the links topic to the
incident clock; each watermark tick) took up to 1.5 s there: measured with a
plain aiokafka consumer on tansu, produce-to-consume took 615 ms at a 1.5 s
wait and 17 ms at 100 ms. On that broker the worker's consumer waits at most
``EMBEDDED_FETCH_MAX_WAIT_MS``.

**End offsets.** Asked for a partition's end (``ListOffsets``, latest), the
embedded broker answers with the base offset of the partition's last record
batch plus one, not the offset after its last record: with three batches of
ten records it says 21, not 30. Faust recovers a table by reading its
changelog up to that end, so it would stop short of the last batch. On that
broker the worker produces one record per batch (``streams/app.py``), so the
two agree.
"""

from __future__ import annotations

from typing import Any

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.consumer import SafeSeekConsumer, SafeSeekTransport, use_transport

EMBEDDED_FETCH_MAX_WAIT_MS = 100


class _EmbeddedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms = EMBEDDED_FETCH_MAX_WAIT_MS

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka keeps the value until start() builds its fetcher with it.
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


class _EmbeddedConsumer(SafeSeekConsumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _EmbeddedConsumerThread(self, loop=self.loop, beacon=self.beacon)


class EmbeddedBrokerTransport(SafeSeekTransport):
    Consumer = _EmbeddedConsumer


def use_embedded_broker_consumer(app: faust.App) -> None:
    """Give ``app`` the consumer for the embedded broker: the short fetch wait."""
    use_transport(app, EmbeddedBrokerTransport)
