"""The worker's consumer on the embedded broker (tansu), which differs from Kafka twice.

**Fetch wait.** Faust gives its consumer ``fetch_max_wait_ms=1500`` (not a
setting). A Kafka broker answers a fetch as soon as a record arrives, so the
wait costs nothing. The embedded broker holds every fetch to the end of the
wait, so each hop through Kafka (a watermark tick, a link sent to another
worker's partition) took up to 1.5 s there: measured with a plain aiokafka
consumer on tansu, produce-to-consume took 615 ms at a 1.5 s wait and 17 ms
at 100 ms. On that broker the worker's consumer waits at most
``EMBEDDED_FETCH_MAX_WAIT_MS`` (50 ms: at 100 ms the two waits of a report's
round trip, the worker's and a subscriber's, were most of the benchmark's
produce-to-outcome p99, and an idle worker's extra fetches cost nothing).

**End offsets.** Asked for a partition's end (``ListOffsets``, latest), the
embedded broker answers with the base offset of the partition's last record
batch plus one, not the offset after its last record: with three batches of
ten records it says 21, not 30. Its fetch responses carry the true high
watermark. Faust recovers a table by reading its changelog up to the
``ListOffsets`` end, so it would stop short of the last batch and lose those
incidents' latest state. On that broker the consumer reads the true end from
a fetch at the last batch instead, and the producer batches records as it
does on Kafka (one record per batch, the other way round this, cost a third
of the worker's throughput: 1,580 against 2,430 events a second, one run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from monitor.adapters.faust.consumer import SafeSeekConsumer, SafeSeekTransport, use_transport

EMBEDDED_FETCH_MAX_WAIT_MS = 50
_END_READ_TIMEOUT_S = 10.0


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

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        listed = await super().highwaters(*partitions)
        bootstrap = [f"{url.host}:{url.port}" for url in self.app.conf.broker]
        return await true_end_offsets(bootstrap, listed)


class EmbeddedBrokerTransport(SafeSeekTransport):
    Consumer = _EmbeddedConsumer


def use_embedded_broker_consumer(app: faust.App) -> None:
    """Give ``app`` the consumer for the embedded broker: short fetch wait, true end offsets."""
    use_transport(app, EmbeddedBrokerTransport)


async def true_end_offsets(bootstrap: list[str], listed: Mapping[TP, int]) -> dict[TP, int]:
    """The offset after each partition's last record, given the embedded broker's ``listed`` ends.

    ``listed`` is one past the base offset of the last batch, so that batch
    starts at ``listed - 1``; one fetch from there returns the high watermark.
    An empty partition (``listed`` 0 or less) ends where it says.
    """
    ends = dict(listed)
    to_read = {
        aiokafka.TopicPartition(tp.topic, tp.partition): offset
        for tp, offset in listed.items()
        if offset is not None and offset > 0
    }
    if not to_read:
        return ends
    consumer = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
        max_partition_fetch_bytes=1024,  # the watermark is what is wanted, not the records
    )
    await consumer.start()
    try:
        consumer.assign(list(to_read))
        for tp, offset in to_read.items():
            consumer.seek(tp, offset - 1)
        deadline = asyncio.get_running_loop().time() + _END_READ_TIMEOUT_S
        while any(consumer.highwater(tp) is None for tp in to_read):
            if asyncio.get_running_loop().time() > deadline:
                missing = sorted(str(tp) for tp in to_read if consumer.highwater(tp) is None)
                raise TimeoutError(f"no high watermark from the embedded broker for {missing}")
            await consumer.getmany(timeout_ms=200)
        for tp, offset in to_read.items():
            ends[TP(tp.topic, tp.partition)] = max(offset, consumer.highwater(tp) or 0)
    finally:
        await consumer.stop()
    return ends
