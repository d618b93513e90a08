"""The ceiling: a plain aiokafka consumer that decodes the same events and matches them in a dict.

It does what the pipeline must at least do, and nothing more: fetch, validate
with the same pydantic models (``monitor.adapters.wire.inbound``), and pair each crime
record with its incident's report. No state is saved, nothing is published.
It is what Python can do with this broker on this machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.adapters.kafka.clients import aiokafka_options
from monitor.adapters.wire.inbound import Rejected, decode_crime_event, decode_incident_event
from monitor.domain.inputs import CrimeRecorded, IncidentReported
from monitor.settings import Settings


@dataclass(frozen=True)
class CeilingResult:
    events: int
    seconds: float
    measured: int
    rejected: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def consume_and_match(settings: Settings, expected: int, timeout_s: float) -> CeilingResult:
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-bench-ceiling"),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        names = (settings.incidents_topic, settings.crime_records_topic)
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        reported: dict[str, datetime] = {}
        waiting: dict[str, datetime] = {}
        elapsed: dict[str, float] = {}
        count = rejected = 0
        limit = settings.max_event_bytes
        started = time.perf_counter()
        while count < expected and time.perf_counter() - started < timeout_s:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for tp, records in batches.items():
                incidents = tp.topic == settings.incidents_topic
                for record in records:
                    count += 1
                    event: object
                    try:
                        if incidents:
                            event = decode_incident_event(record.value, max_bytes=limit)
                        else:
                            event = decode_crime_event(record.value, max_bytes=limit)
                    except Rejected:
                        rejected += 1
                        continue
                    if isinstance(event, IncidentReported):
                        reported.setdefault(event.incident_id, event.reported_at)
                        if event.incident_id in waiting:
                            at = waiting.pop(event.incident_id)
                            elapsed[event.incident_id] = (at - event.reported_at).total_seconds()
                    elif isinstance(event, CrimeRecorded):
                        for incident_id in event.incident_ids:
                            report = reported.get(incident_id)
                            if report is None:
                                waiting.setdefault(incident_id, event.recorded_at)
                            elif incident_id not in elapsed:
                                elapsed[incident_id] = (event.recorded_at - report).total_seconds()
        return CeilingResult(count, time.perf_counter() - started, len(elapsed), rejected)
    finally:
        await consumer.stop()
