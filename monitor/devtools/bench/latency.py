"""Produce-to-outcome latency at a steady rate, and how late overdue alerts come after deadlines.

At ``rate`` events a second, each incident is reported and, half a second
later, recorded (two events); the latency of an incident is from the moment
its crime record is handed to the producer to the moment a subscriber reads
its ``cdi.recording.measured`` outcome. Alongside, a few incidents are
reported 24 h minus a few seconds ago and never recorded: the delay of each
is from its deadline to the moment a subscriber reads its overdue alert.
Both are wall-clock times on this machine (the worker runs the real clock).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer

from monitor.adapters.kafka.clients import aiokafka_options
from monitor.devtools.bench.workload import producer
from monitor.settings import Settings
from schemas.event_types import EventType

TARGET = timedelta(hours=24)


@dataclass
class LatencyResult:
    rate: float
    seconds: float
    sent: int
    latencies_s: list[float] = field(default_factory=list)
    missing: int = 0
    alert_delays_s: list[float] = field(default_factory=list)
    alerts_expected: int = 0


def _event(event_type: str, event_id: str, at: datetime, data: dict[str, object]) -> bytes:
    stamp = at.isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "urn:cdi-monitor:bench",
            "type": event_type,
            "time": stamp,
            "datacontenttype": "application/json",
            "data": data,
        },
        separators=(",", ":"),
    ).encode()


def reported(incident_id: str, at: datetime) -> bytes:
    return _event(
        EventType.INCIDENT_REPORTED,
        f"r-{incident_id}",
        at,
        {
            "incident_id": incident_id,
            "force": "bench",
            "reported_at": at.isoformat().replace("+00:00", "Z"),
            "channel": "999",
            "category": "violence",
            "crime_related": True,
            "division": "city",
        },
    )


def recorded(crime_id: str, incident_id: str, at: datetime) -> bytes:
    return _event(
        EventType.CRIME_RECORDED,
        f"c-{crime_id}",
        at,
        {
            "crime_id": crime_id,
            "incident_ids": [incident_id],
            "recorded_at": at.isoformat().replace("+00:00", "Z"),
            "offence_code": "8N",
            "offence_group": "violence_against_the_person",
        },
    )


async def measure(
    settings: Settings, *, rate: float, seconds: float, warmup_s: float, alerts: int
) -> LatencyResult:
    result = LatencyResult(rate=rate, seconds=seconds, sent=0, alerts_expected=alerts)
    sent_at: dict[str, float] = {}
    deadlines: dict[str, float] = {}
    received: dict[str, float] = {}
    alerted: dict[str, float] = {}
    consumer = AIOKafkaConsumer(
        settings.outcomes_topic,
        settings.alerts_topic,
        **aiokafka_options(settings, client_id=f"{settings.app_id}-bench-subscriber"),
        group_id=None,
        auto_offset_reset="latest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    stop = asyncio.Event()

    async def subscribe() -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    subject = event.get("subject", "")
                    if event["type"] == EventType.RECORDING_MEASURED:
                        received.setdefault(subject, now)
                    elif event["type"] == EventType.OVERDUE:
                        alerted.setdefault(subject, now)

    reader = asyncio.create_task(subscribe())
    client = producer(settings, f"{settings.app_id}-bench-latency", linger_ms=0)
    await client.start()
    try:
        await asyncio.sleep(1.0)  # the subscriber is positioned at the end
        start = datetime.now(UTC)
        # Overdue incidents: deadlines spread over the run, never recorded.
        for k in range(alerts):
            due_in = 5.0 + (seconds - 10.0) * k / max(alerts - 1, 1)
            incident_id = f"BENCH-DUE-{k}"
            at = start - TARGET + timedelta(seconds=due_in)
            deadlines[incident_id] = (at + TARGET).timestamp()
            await client.send(
                settings.incidents_topic, reported(incident_id, at), key=incident_id.encode()
            )
        await client.flush()
        began = time.perf_counter()
        step = 0.01
        per_step = rate * step / 2  # two events an incident
        owed = 0.0
        i = 0
        pending_records: list[tuple[float, int]] = []
        while (elapsed := time.perf_counter() - began) < seconds:
            owed += per_step
            while owed >= 1:
                owed -= 1
                incident_id = f"BENCH-{i}"
                now = datetime.now(UTC)
                await client.send(
                    settings.incidents_topic,
                    reported(incident_id, now - timedelta(hours=1)),
                    key=incident_id.encode(),
                )
                pending_records.append((time.perf_counter() + 0.5, i))
                result.sent += 1
                i += 1
            while pending_records and pending_records[0][0] <= time.perf_counter():
                _, j = pending_records.pop(0)
                incident_id = f"BENCH-{j}"
                if elapsed >= warmup_s:
                    sent_at[incident_id] = time.time()
                await client.send(
                    settings.crime_records_topic,
                    recorded(f"BCR-{j}", incident_id, datetime.now(UTC)),
                    key=incident_id.encode(),
                )
                result.sent += 1
            next_step = began + (int(elapsed / step) + 1) * step
            await asyncio.sleep(max(0.0, next_step - time.perf_counter()))
        for _, j in pending_records:
            incident_id = f"BENCH-{j}"
            sent_at[incident_id] = time.time()
            await client.send(
                settings.crime_records_topic,
                recorded(f"BCR-{j}", incident_id, datetime.now(UTC)),
                key=incident_id.encode(),
            )
            result.sent += 1
        await client.flush()
        # Let the last outcomes and alerts arrive.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            len(set(sent_at) - set(received)) or len(set(deadlines) - set(alerted))
        ):
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await reader
        await client.stop()
        await consumer.stop()
    result.latencies_s = sorted(received[k] - t for k, t in sent_at.items() if k in received)
    result.missing = len(set(sent_at) - set(received))
    result.alert_delays_s = sorted(alerted[k] - d for k, d in deadlines.items() if k in alerted)
    return result


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, math.ceil(fraction * len(values)) - 1))
    return values[rank]
