"""The benchmark's input: a simulated force's stream, encoded once, produced in large batches."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from monitor.adapters.kafka.clients import aiokafka_options
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.settings import Settings

# Every force in England and Wales together: about 15 million incidents a year.
NATIONAL_INCIDENTS_PER_YEAR = 15_000_000


@dataclass(frozen=True)
class Encoded:
    """Events ready to send: (topic, key, value) with the topic as the simulator names it."""

    events: list[tuple[str, bytes, bytes]]
    first_at: datetime
    last_at: datetime
    seconds: float

    @property
    def total_bytes(self) -> int:
        return sum(len(v) for _, _, v in self.events)


def simulated_events(count: int, end: datetime, seed: int = 1) -> Encoded:
    """At least ``count`` events of a national-sized force, ending before ``end``, pre-encoded."""
    profile = replace(ForceProfile(), incidents_per_year=NATIONAL_INCIDENTS_PER_YEAR)
    # About 2.3 events per incident: size the simulated span so it holds enough.
    per_day = NATIONAL_INCIDENTS_PER_YEAR / 365.25 * 2.0
    span = timedelta(days=count / per_day + 1)
    started = time.perf_counter()
    out: list[tuple[str, bytes, bytes]] = []
    first_at = last_at = end
    for event in Simulation(profile, seed=seed).events(end - span, end):
        if not out:
            first_at = event.publish_at
        out.append((event.topic, event.key.encode(), event.to_bytes()))
        last_at = event.publish_at
        if len(out) >= count:
            break
    if len(out) < count:
        raise RuntimeError(f"the simulation gave {len(out)} events, fewer than {count}")
    return Encoded(out, first_at, last_at, time.perf_counter() - started)


def producer(settings: Settings, client_id: str, *, linger_ms: int = 20) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **aiokafka_options(settings, client_id=client_id),
        acks="all",
        linger_ms=linger_ms,
        max_batch_size=1024 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


async def produce_all(settings: Settings, encoded: Encoded) -> float:
    """Send every event as fast as the broker takes them; return the seconds it took."""
    topics = {"incidents": settings.incidents_topic, "crime-records": settings.crime_records_topic}
    client = producer(settings, f"{settings.app_id}-bench-producer")
    await client.start()
    try:
        started = time.perf_counter()
        pending: list[asyncio.Future[object]] = []
        for topic, key, value in encoded.events:
            pending.append(await client.send(topics[topic], value=value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return time.perf_counter() - started
    finally:
        await client.stop()
