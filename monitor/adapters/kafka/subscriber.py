"""``cdi-monitor subscribe TOPIC``: print a topic's events as a partner receives them.

For people checking an integration: it joins no consumer group and commits
nothing, so it never takes events away from a real subscriber. It reads every
partition from the end (new events only) or, with ``--from-beginning``, from
the start; ``--max`` and ``--timeout`` make it usable from scripts.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from kafka import KafkaConsumer, TopicPartition

from monitor.adapters.kafka.clients import kafka_python_options
from monitor.settings import Settings


class SubscribeError(Exception):
    """The topic cannot be read (it does not exist, or the broker cannot be reached)."""


def consumer_for(settings: Settings, **options: Any) -> KafkaConsumer:
    """The one place a plain Kafka consumer is built (connection and security settings)."""
    return KafkaConsumer(
        **kafka_python_options(settings, client_id=f"{settings.app_id}-subscribe"),
        enable_auto_commit=False,
        group_id=None,
        allow_auto_create_topics=False,  # looking at a topic must never create it
        **options,
    )


@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    def event(self) -> dict[str, Any]:
        """The CloudEvent, or the raw bytes in base64 when the value is not a JSON object."""
        try:
            event = json.loads(self.value or b"")
        except ValueError:
            event = None
        if isinstance(event, dict):
            return event
        return {"undecodable_value_base64": base64.b64encode(self.value or b"").decode()}


def as_json_line(record: Received) -> str:
    """The event exactly as published, on one line."""
    return json.dumps(record.event(), separators=(",", ":"), ensure_ascii=False)


def as_text(record: Received) -> str:
    """A readable block: time, type, key and subject on one line, then each data field."""
    event = record.event()
    key = record.key.decode(errors="replace") if record.key is not None else "-"
    head = (
        f"{event.get('time', '?')}  {event.get('type', '(not a CloudEvent)')}  key={key}"
        f"  subject={event.get('subject', '-')}  [{record.partition}:{record.offset}]"
    )
    lines = [head, f"    id: {event.get('id', '-')}"]
    if "dataschema" in event:
        lines.append(f"    dataschema: {event['dataschema']}")
    data = event.get("data", {k: v for k, v in event.items() if k != "type"})
    if isinstance(data, dict):
        width = max((len(name) for name in data), default=0)
        for name, value in data.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"    {name.ljust(width)}  {shown}")
    return "\n".join(lines)


def read(
    consumer: KafkaConsumer, topic: str, *, from_beginning: bool, idle_timeout: float | None
) -> Iterator[Received]:
    """Every record of ``topic`` in arrival order per partition, until idle for ``idle_timeout``."""
    partitions = _partitions(consumer, topic)
    consumer.assign(partitions)
    if from_beginning:
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.seek_to_end(*partitions)
    last = time.monotonic()
    while idle_timeout is None or time.monotonic() - last < idle_timeout:
        batches = consumer.poll(timeout_ms=500)
        for batch in batches.values():
            for message in batch:
                last = time.monotonic()
                yield Received(
                    message.topic, message.partition, message.offset, message.key, message.value
                )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    deadline = time.monotonic() + 10
    while True:
        ids = consumer.partitions_for_topic(topic)
        if ids:
            return [TopicPartition(topic, p) for p in sorted(ids)]
        if time.monotonic() > deadline:
            raise SubscribeError(f"topic {topic!r} does not exist on the broker")
        time.sleep(0.5)


def subscribe(
    settings: Settings,
    topic: str,
    *,
    json_lines: bool,
    from_beginning: bool,
    max_events: int | None,
    idle_timeout: float | None,
    out: TextIO = sys.stdout,
) -> int:
    """Print events until ``max_events`` (exit 0), or until idle for ``idle_timeout``.

    Stopping on the timeout before ``max_events`` were seen exits 1, so a script
    can tell that fewer events came than it expected.
    """
    try:
        wait_ms = max(int(settings.startup_timeout.total_seconds() * 1000), 1000)
        consumer = consumer_for(settings, bootstrap_timeout_ms=wait_ms)
    except Exception as exc:
        raise SubscribeError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers} "
            f"(CDI_KAFKA_BOOTSTRAP_SERVERS): {exc}"
        ) from None
    seen = 0
    try:
        if max_events == 0:
            return 0
        for record in read(
            consumer, topic, from_beginning=from_beginning, idle_timeout=idle_timeout
        ):
            print(as_json_line(record) if json_lines else as_text(record), file=out, flush=True)
            seen += 1
            if max_events is not None and seen >= max_events:
                return 0
    finally:
        consumer.close()
    if max_events is not None:
        print(
            f"cdi-monitor: {seen} of {max_events} events from {topic} before the timeout",
            file=sys.stderr,
        )
        return 1
    return 0
