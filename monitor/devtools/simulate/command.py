"""``cdi-monitor simulate``: publish a simulated force's events to the configured topics."""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import replace

from aiokafka import AIOKafkaProducer

from monitor.adapters.clock import Clock, make_clock
from monitor.adapters.kafka.clients import aiokafka_options
from monitor.devtools.simulate import ForceProfile, SimSummary, Simulation, publish
from monitor.settings import Settings


def producer_for(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-simulator"),
        acks="all",
        linger_ms=5,
    )


async def publish_simulation(
    settings: Settings,
    simulation: Simulation,
    *,
    clock: Clock,
    backfill,
    duration=None,
    stop: asyncio.Event | None = None,
) -> SimSummary:
    """Produce the simulation to the configured topics until ``duration`` or ``stop``."""
    topics = {"incidents": settings.incidents_topic, "crime-records": settings.crime_records_topic}
    producer = producer_for(settings)
    await producer.start()
    try:

        async def send(topic: str, key: bytes, value: bytes) -> None:
            await producer.send(topics[topic], key=key, value=value)

        start = clock.now() - backfill
        until = None if duration is None else clock.now() + duration
        summary = await publish(
            simulation, clock=clock, send=send, start=start, until=until, stop=stop
        )
        await producer.flush()
        return summary
    finally:
        await producer.stop()


async def simulate(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.adapters.kafka.topology import ensure_topics

    await asyncio.to_thread(ensure_topics, settings)
    rate = args.speed if args.speed is not None else settings.clock_rate
    clock = make_clock(rate, settings.clock_origin)
    profile = ForceProfile()
    if args.incidents_per_year:
        profile = replace(profile, incidents_per_year=args.incidents_per_year)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"simulating {profile.force} ({profile.incidents_per_year:,.0f} incidents a year) "
        f"at {rate:g}x into {settings.incidents_topic} and {settings.crime_records_topic} "
        f"on {settings.kafka_bootstrap_servers}; Ctrl-C stops",
        flush=True,
    )
    summary = await publish_simulation(
        settings,
        Simulation(profile, seed=args.seed),
        clock=clock,
        backfill=args.backfill,
        duration=args.duration,
        stop=stop,
    )
    print(summary)
    return 0
