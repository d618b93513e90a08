"""A shorter fetch wait for the embedded broker, which answers a fetch only when the wait ends.

Faust gives its consumer ``fetch_max_wait_ms=1500`` (not a setting). A Kafka
broker answers a fetch as soon as a record arrives, so the wait costs
nothing. The embedded broker (tansu) holds every fetch to the end of the
wait, so each hop through Kafka (crime-router to the links topic to the
incident clock; each watermark tick) took up to 1.5 s there: measured with a
plain aiokafka consumer on tansu, produce-to-consume took 615 ms at a 1.5 s
wait and 17 ms at 100 ms. On that broker only, the worker's consumer waits
at most ``EMBEDDED_FETCH_MAX_WAIT_MS``.
"""

from __future__ import annotations

from typing import Any

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

EMBEDDED_FETCH_MAX_WAIT_MS = 100


class _ShortWaitConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms = EMBEDDED_FETCH_MAX_WAIT_MS

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka keeps the value until start() builds its fetcher with it.
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


class _ShortWaitConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ShortWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ShortWaitTransport(faust_aiokafka.Transport):
    Consumer = _ShortWaitConsumer


def use_short_fetch_wait(app: faust.App) -> None:
    """Make ``app``'s stream consumer wait at most ``EMBEDDED_FETCH_MAX_WAIT_MS`` per fetch."""

    def new_transport() -> Any:
        return ShortWaitTransport(app.conf.broker_consumer, app)

    app._new_transport = new_transport  # type: ignore[method-assign]
