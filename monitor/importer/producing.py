"""Sending imported events to the input topics: what is there already, and the rest in order.

- ``ids_on_topics`` reads the input topics from the beginning and collects the
  event ids they hold, so an import of a file already imported (or of an
  extract overlapping yesterday's) sends nothing it already sent.
- ``send_in_rounds`` produces events in event-time order, in rounds: each
  round's events go out as large per-partition batches (as fast as the broker
  takes them), and the next round starts only when the broker has
  acknowledged them all, so incidents and crimes interleave in event time to
  within a round.
- ``monitor_has_read`` says whether the monitor's consumer group has already
  read these topics (a live monitor, where old events are late data) or not
  (a backfill, read as a replay when the worker starts).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.adapters.kafka.clients import aiokafka_options, kafka_python_options
from monitor.adapters.kafka.partitioning import partition_for
from monitor.importer.events import ImportEvent
from monitor.settings import Settings

ROUND_EVENTS = 10_000
"""Events per round: all of a round is acknowledged before the next is sent."""

_QUIET_MS = 300


def topic_names(settings: Settings) -> dict[str, str]:
    return {"incidents": settings.incidents_topic, "crime-records": settings.crime_records_topic}


async def ids_on_topics(settings: Settings, topics: Iterable[str]) -> set[str]:
    """The CloudEvent ids of every record in ``topics`` (values that are not events are skipped)."""
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-import-check"),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(
                consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            )
        ]
        if not partitions:
            return set()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        ids: set[str] = set()
        while True:
            batches = await consumer.getmany(timeout_ms=_QUIET_MS, max_records=50_000)
            for records in batches.values():
                for record in records:
                    ids.add(_event_id(record.value))
            if batches:
                continue
            # Caught up with the end offsets, and a quiet poll on top: some brokers
            # (the embedded one) report an end offset short of a partition's last batch.
            positions = [await consumer.position(tp) for tp in partitions]
            if all(pos >= ends[tp] for pos, tp in zip(positions, partitions, strict=True)):
                break
        ids.discard("")
        return ids
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    # partitions_for_topic answers from metadata, which the consumer fetches on demand.
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def _event_id(value: bytes | None) -> str:
    if not value:
        return ""
    try:
        event = json.loads(value)
    except ValueError:
        return ""
    found = event.get("id") if isinstance(event, dict) else None
    return found if isinstance(found, str) else ""


def producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-import"),
        acks="all",
        linger_ms=20,
        max_batch_size=1024 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


async def send_in_rounds(
    client: AIOKafkaProducer,
    settings: Settings,
    events: Sequence[ImportEvent],
    *,
    on_sent: Callable[[int], None] = lambda n: None,
    round_events: int = ROUND_EVENTS,
) -> int:
    """Produce ``events`` (already in event-time order) round by round; return how many."""
    names = topic_names(settings)
    counts = {topic: len(await client.partitions_for(name)) for topic, name in names.items()}
    sent = 0
    for start in range(0, len(events), round_events):
        chunk = events[start : start + round_events]
        await _send_round(client, names, counts, chunk)
        sent += len(chunk)
        on_sent(len(chunk))
    return sent


async def _send_round(
    client: AIOKafkaProducer,
    names: dict[str, str],
    counts: dict[str, int],
    chunk: Sequence[ImportEvent],
) -> None:
    builders: dict[tuple[str, int], Any] = {}
    pending: list[asyncio.Future[object]] = []
    for event in chunk:
        key = event.key.encode()
        tp = (event.topic, partition_for(event.key, counts[event.topic]))
        builder = builders.get(tp)
        if builder is None:
            builder = builders[tp] = client.create_batch()
        if builder.append(key=key, value=event.value, timestamp=None) is None:
            pending.append(await client.send_batch(builder, names[tp[0]], partition=tp[1]))
            builder = builders[tp] = client.create_batch()
            builder.append(key=key, value=event.value, timestamp=None)
    for (topic, partition), builder in builders.items():
        pending.append(await client.send_batch(builder, names[topic], partition=partition))
    await asyncio.gather(*pending)


def monitor_has_read(settings: Settings) -> bool | None:
    """Whether the monitor's group (``CDI_APP_ID``) has committed offsets on the input topics.

    None when the broker cannot say (the question is then left open in the summary).
    """
    from kafka import KafkaAdminClient

    try:
        admin = KafkaAdminClient(
            **kafka_python_options(settings, client_id=f"{settings.app_id}-import-admin"),
            request_timeout_ms=10_000,
        )
    except Exception:
        return None
    try:
        offsets = admin.list_group_offsets(settings.app_id).get(settings.app_id, {})
    except Exception:
        return None
    finally:
        admin.close()
    inputs = set(topic_names(settings).values())
    return any(tp.topic in inputs and meta.offset >= 0 for tp, meta in offsets.items())
