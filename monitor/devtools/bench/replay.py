"""Rebuilding a force's year: a new application id reads the input topics from the start.

A year of a Leicestershire-size force (the simulator's default profile:
about 260,000 incidents) is produced to fresh input topics. A fresh
deployment, as an operator makes one with a new ``CDI_APP_ID``, then reads
it: the time counted is from starting the worker processes to the last input
event handled and the last ledger row written. While it runs, the workers'
own word on their catch-up (``/ready`` and the log line) is noted.

Run once with one worker and once with two on the same topics, the two
rebuilds must publish the same events (compared by a digest of the distinct
records on the outcomes, alerts and referrals topics: a copy redelivered
during a rebalance has the same id and bytes, and subscribers drop it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.adapters.kafka.clients import aiokafka_options
from monitor.adapters.kafka.topology import ensure_topics
from monitor.devtools.bench.deployment import bench_settings, database_url, worker_env
from monitor.devtools.bench.worker import BenchWorker
from monitor.devtools.bench.workload import Encoded
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.settings import Settings


def year_of_a_force(days: float, end: datetime, seed: int = 3) -> Encoded:
    """``days`` of the default simulated force (Leicestershire's volumes), pre-encoded."""
    started = time.perf_counter()
    out: list[tuple[str, bytes, bytes]] = []
    first_at = last_at = end
    for event in Simulation(ForceProfile(), seed=seed).events(end - timedelta(days=days), end):
        if not out:
            first_at = event.publish_at
        out.append((event.topic, event.key.encode(), event.to_bytes()))
        last_at = event.publish_at
    return Encoded(out, first_at, last_at, time.perf_counter() - started)


@dataclass
class Rebuild:
    workers: int
    events: int
    seconds: float = 0.0
    """From starting the workers to the last event handled and the last ledger row written."""
    seconds_to_ready: float = 0.0
    finished: bool = False
    ledger_rows: float = 0.0
    outputs: int = 0
    digest: str = ""
    said: list[str] = field(default_factory=list)
    """What the workers said while catching up: ``/ready`` bodies and log lines."""

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    bootstrap: str, work: Path, inputs: str, events: int, *, workers: int, timeout_s: float
) -> Rebuild:
    """A new deployment of ``workers`` workers reads the topics of run ``inputs`` from the start."""
    name = f"{inputs}-rebuild{workers}-{secrets.token_hex(2)}"
    settings = bench_settings(bootstrap, name, 6, database_url(work, name), inputs=inputs)
    ensure_topics(settings)
    result = Rebuild(workers=workers, events=events)
    started = time.monotonic()
    running = [
        BenchWorker(worker_env(settings), work / f"{name}-{i}.log").start() for i in range(workers)
    ]
    result.seconds_to_ready = time.monotonic() - started
    try:
        result.finished, result.seconds, result.ledger_rows = _until_done(
            running, events, started, timeout_s, result.said
        )
    finally:
        for worker in running:
            worker.stop()
    for worker in running:
        result.said += [line for line in worker.log_lines() if "catching up:" in line][:1]
    result.outputs, result.digest = asyncio.run(_digest(settings))
    return result


def _until_done(
    workers: list[BenchWorker], events: int, started: float, timeout_s: float, said: list[str]
) -> tuple[bool, float, float]:
    """Poll until every input event is handled and the ledger is written; (done, seconds, rows)."""
    deadline = started + timeout_s
    rows, rows_at = -1.0, time.monotonic()
    asked_ready = False
    while time.monotonic() < deadline:
        time.sleep(1.0)
        consumed = sum(w.consumed() for w in workers)
        if not asked_ready and consumed > events / 10:
            said += [json.dumps(w.ready_body()) for w in workers]
            asked_ready = True
        if consumed < events:
            continue
        now_rows = sum(w.counter("cdi_ledger_rows_written_total") for w in workers)
        lag = sum(w.ledger_lag() for w in workers)
        if now_rows != rows:
            rows, rows_at = now_rows, time.monotonic()
        elif lag == 0 and time.monotonic() - rows_at >= 3.0:
            return True, rows_at - started, rows
    return False, time.monotonic() - started, rows


async def _digest(settings: Settings) -> tuple[int, str]:
    """How many distinct events the deployment published, and a digest of them (order aside)."""
    topics = [settings.outcomes_topic, settings.alerts_topic, settings.referrals_topic]
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-bench-digest"),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        values: list[bytes] = []
        quiet_since = time.monotonic()
        # Read until every partition is at the high watermark its fetches report.
        while time.monotonic() - quiet_since < 5.0:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                values += [r.value or b"" for r in records]
            if batches:
                quiet_since = time.monotonic()
            else:
                positions = {tp: await consumer.position(tp) for tp in partitions}
                ends = {tp: consumer.highwater(tp) for tp in partitions}
                if all(end is not None and positions[tp] >= end for tp, end in ends.items()):
                    break
    finally:
        await consumer.stop()
    # A redelivery (a rebalance while two workers start) publishes an event again,
    # with the same id and bytes, which subscribers drop: compare distinct events.
    distinct = sorted(set(values))
    digest = hashlib.sha256()
    for value in distinct:
        digest.update(value)
    return len(distinct), digest.hexdigest()[:16]
