"""The import's speed: a year of exports read, mapped and produced, beside the raw producer.

    python -m monitor.importer.benchmark [--incidents-per-year 425000] [--days 365]

1. Simulate the period and write it as the example mapping's two extracts
   (not timed: that is the force's systems' work).
2. Start the embedded broker (or use ``--bootstrap``) and time what
   ``cdi-monitor import`` does: read and map every row, create the topics,
   read the topics for ids already there, and produce every event in
   event-time order in large batches.
3. In the same run, produce the very same event bytes to fresh topics the way
   the benchmark's workload does (``monitor.devtools.bench.workload.produce_all``:
   aiokafka, one ``send`` per event, large batches): the raw producer rate.

The target (issue 15): a Leicestershire-size year, about 1,000,000 events,
in under a minute. The default volume is scaled so that the simulated year
holds about that many events (the simulator makes about 2.4 events per
incident, so 260,000 incidents a year give about 614,000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.adapters.kafka.embedded_broker import EmbeddedBroker
from monitor.adapters.kafka.topology import ensure_topics
from monitor.devtools.bench.deployment import bench_settings
from monitor.devtools.bench.workload import Encoded, produce_all
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.devtools.simulate.csv_export import EXAMPLE_MAPPING, export
from monitor.importer.command import map_files
from monitor.importer.mapping import load_mapping
from monitor.importer.producing import ids_on_topics, producer, send_in_rounds, topic_names
from monitor.settings import Settings

TARGET_SECONDS = 60.0


def _settings(bootstrap: str, partitions: int) -> Settings:
    return bench_settings(bootstrap, f"import-bench-{secrets.token_hex(3)}", partitions)


async def _import(settings: Settings, events) -> tuple[float, float, int]:
    """(seconds to create topics and check ids, seconds to produce, events sent)."""
    started = time.perf_counter()
    await asyncio.to_thread(ensure_topics, settings)
    present = await ids_on_topics(settings, topic_names(settings).values())
    todo = [e for e in events if e.event_id not in present]
    checked = time.perf_counter()
    client = producer(settings)
    await client.start()
    try:
        sent = await send_in_rounds(client, settings, todo)
    finally:
        await client.stop()
    return checked - started, time.perf_counter() - checked, sent


def run(args: argparse.Namespace) -> int:
    profile = replace(ForceProfile(), incidents_per_year=args.incidents_per_year)
    until = datetime(2026, 1, 1, tzinfo=UTC)
    start = until - timedelta(days=args.days)
    with tempfile.TemporaryDirectory(prefix="cdi-import-bench-") as folder:
        directory = Path(folder)
        t0 = time.perf_counter()
        incidents, crimes = export(
            Simulation(profile, seed=1), start, until, directory, EXAMPLE_MAPPING
        )
        print(
            f"exported {incidents:,} incidents and {crimes:,} crimes ({args.days} days, "
            f"{args.incidents_per_year:,} incidents a year) in {time.perf_counter() - t0:.1f} s "
            "(not timed)",
            flush=True,
        )
        files = [directory / "incidents.csv", directory / "crimes.csv"]
        size = sum(f.stat().st_size for f in files)
        broker = None if args.bootstrap else EmbeddedBroker().start()
        bootstrap = args.bootstrap or (broker.bootstrap if broker else "")
        try:
            load_before = os.getloadavg()
            t0 = time.perf_counter()
            mapped = map_files(load_mapping(EXAMPLE_MAPPING), files, progress=False)
            mapped_s = time.perf_counter() - t0
            settings = _settings(bootstrap, args.partitions)
            check_s, produce_s, sent = asyncio.run(_import(settings, mapped.events))
            total = mapped_s + check_s + produce_s
            raw_settings = _settings(bootstrap, args.partitions)
            ensure_topics(raw_settings)
            names = {"incidents": "incidents", "crime-records": "crime-records"}
            raw = Encoded(
                [(names[e.topic], e.key.encode(), e.value) for e in mapped.events],
                datetime.fromtimestamp(mapped.events[0].at / 1e6, UTC),
                datetime.fromtimestamp(mapped.events[-1].at / 1e6, UTC),
                0.0,
            )
            raw_s = asyncio.run(produce_all(raw_settings, raw))
            load_after = os.getloadavg()
        finally:
            if broker is not None:
                broker.stop()
    rows = mapped.rows.total()
    events = len(mapped.events)
    verdict = "met" if total < TARGET_SECONDS else f"missed by {total - TARGET_SECONDS:.1f} s"
    print(
        f"\n| Measure | Result |\n|---|---|\n"
        f"| Exports | {rows:,} rows ({incidents:,} incidents, {crimes:,} crimes), "
        f"{size / 1e6:.1f} MB, {len(mapped.rejects):,} rejected |\n"
        f"| Read and mapped | {events:,} events in {mapped_s:.1f} s "
        f"({events / mapped_s:,.0f}/s) |\n"
        f"| Topics created, ids already there read | {check_s:.1f} s |\n"
        f"| Produced in event-time order (send_batch, rounds of 10,000) | {sent:,} in "
        f"{produce_s:.1f} s ({sent / produce_s:,.0f}/s) |\n"
        f"| **Import, all of it** | **{total:.1f} s ({events / total:,.0f} events/s)**: "
        f"target under {TARGET_SECONDS:.0f} s, {verdict} |\n"
        f"| Raw producer, same events, same run (aiokafka send per event, as the bench) | "
        f"{events:,} in {raw_s:.1f} s ({events / raw_s:,.0f}/s) |\n"
        f"\nMachine: {os.cpu_count()} CPUs; load average {_load(load_before)} before, "
        f"{_load(load_after)} after; broker {'embedded (tansu)' if broker else bootstrap}."
    )
    return 0


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.importer.benchmark")
    parser.add_argument("--incidents-per-year", type=int, default=425_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--bootstrap", default=None, help="a running broker; default embedded")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
