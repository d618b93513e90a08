"""``cdi-monitor demo``: the whole monitor on embedded defaults, on an accelerated clock.

It starts the embedded broker, a ledger database (SQLite in ``--data-dir``,
or PostgreSQL when ``CDI_DATABASE_URL`` is set), a worker process and the
simulator, then prints the alerts and measurements as they are published.
Ctrl-C (or ``--run-for``) stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.adapters.clock import AcceleratedClock
from monitor.adapters.kafka.clients import aiokafka_options
from monitor.adapters.kafka.embedded_broker import EmbeddedBroker, free_port
from monitor.adapters.sql.migrate import mask_url, upgrade
from monitor.devtools.demo.board import DEMO_SUPERVISOR, start_demo_board
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.devtools.simulate.command import publish_simulation
from monitor.settings import Settings, load_settings
from schemas.event_types import EventType

BACKFILL = timedelta(hours=72)
SUMMARY_EVERY_S = 10.0


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def _seconds_between(start: str, end: str) -> float:
    return (_parse(end) - _parse(start)).total_seconds()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _when(text: str) -> str:
    return _parse(text).strftime("%d %b %H:%M")


class Board:
    """What the demo prints: one line per alert or notable outcome, and a running summary."""

    def __init__(self, out: Any = sys.stdout, *, lines: bool = True) -> None:
        self.out = out
        self.lines = lines
        self.elapsed: list[float] = []
        self.within = 0
        self.open_alerts: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.seen: set[str] = set()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def line(self, when: str, label: str, data: dict[str, Any], detail: str) -> None:
        if not self.lines:
            return  # an imported year would print a line per alert; the summaries suffice
        where = f"{data.get('category', '')} / {data.get('division') or '-'}"
        self.say(f"  {_when(when)}  {label:<9} {data['incident_id']:<18} {where:<34} {detail}")

    def take(self, event: dict[str, Any]) -> None:
        if event.get("id") in self.seen:
            return  # a redelivered output: subscribers drop it by id
        self.seen.add(event["id"])
        kind, data = event["type"], event["data"]
        self.counts[kind] += 1
        if kind == EventType.RECORDING_MEASURED:
            # Late recordings are shown by their alert's resolution; the summary counts all.
            self.elapsed.append(data["elapsed_seconds"])
            self.within += data["within_target"]
        elif kind == EventType.DUE_SOON:
            self.open_alerts[data["alert_id"]] = "due_soon"
            self.line(
                data["raised_at"],
                "DUE SOON",
                data,
                f"{_hm(data['remaining_seconds'])} left, deadline {_when(data['deadline'])}",
            )
        elif kind == EventType.OVERDUE:
            self.open_alerts[data["alert_id"]] = "overdue"
            self.line(
                data["overdue_since"],
                "OVERDUE",
                data,
                f"not recorded 24 h after its report at {_when(data['reported_at'])}",
            )
        elif kind == EventType.RESOLVED:
            self.open_alerts.pop(data["alert_id"], None)
            took = _hm(_seconds_between(data["reported_at"], data["resolved_at"]))
            how = (
                f"recorded late, {took} after the report ({data['crime_id']})"
                if data["late"]
                else f"recorded in time, {took} after the report ({data['crime_id']})"
                if data["resolution"] == "recorded"
                else "closed without a crime record"
            )
            self.line(data["resolved_at"], "RESOLVED", data, how)
        elif kind == EventType.CLOSED_WITHOUT_CRIME:
            self.line(
                data["closed_at"],
                "CLOSED",
                data,
                f"closed as {data['closing_code']} with no crime record (audit candidate)",
            )
        elif kind == EventType.INPUT_REJECTED:
            self.say(
                f"  DEAD LETTER  {data['source_topic']}/{data['source_partition']}/"
                f"{data['source_offset']}: {data['reason']}"
            )

    def summary(self, sim_now: datetime) -> str:
        measured = len(self.elapsed)
        share = f"{100 * self.within / measured:.1f}%" if measured else "-"
        median = _hm(statistics.median(self.elapsed)) if measured else "-"
        open_kinds = Counter(self.open_alerts.values())
        return (
            f"-- {sim_now:%d %b %H:%M} (simulated) | measured {measured}: {share} within 24 h, "
            f"median {median} | open alerts: {open_kinds['due_soon']} due soon, "
            f"{open_kinds['overdue']} overdue | closed without crime "
            f"{self.counts[EventType.CLOSED_WITHOUT_CRIME]} | dead letters "
            f"{self.counts[EventType.INPUT_REJECTED]}"
        )


def _worker_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


async def _start_worker(env: dict[str, str], log_path: Path, port: int) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while not await asyncio.to_thread(_worker_ready, port):
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited ({process.returncode}); see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not become ready; see {log_path}")
        await asyncio.sleep(0.5)
    return process


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def _tail(settings: Settings, board: Board, stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        settings.alerts_topic,
        settings.outcomes_topic,
        settings.dead_letter_topic,
        **aiokafka_options(settings, client_id=f"{settings.app_id}-board"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    board.take(json.loads(record.value))
    finally:
        await consumer.stop()


async def _summaries(board: Board, clock: AcceleratedClock, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=SUMMARY_EVERY_S)
        except TimeoutError:
            board.say(board.summary(clock.now()))


async def _send_a_malformed_event(settings: Settings) -> None:
    """One broken message, to show that bad input is dead-lettered with its reason."""
    producer = AIOKafkaProducer(**aiokafka_options(settings, client_id=f"{settings.app_id}-demo"))
    await producer.start()
    try:
        bad = {
            "specversion": "1.0",
            "id": "demo-malformed",
            "source": "urn:demo",
            "type": EventType.INCIDENT_REPORTED,
            "time": "2024-05-01T10:00:00",
            "data": {"incident_id": "LP-BROKEN"},
        }
        await producer.send_and_wait(
            settings.incidents_topic, json.dumps(bad).encode(), b"LP-BROKEN"
        )
    finally:
        await producer.stop()


async def _import_first(settings: Settings, args: argparse.Namespace, board: Board) -> bool:
    """Import the exports before the worker starts, so it reads them as a replay."""
    from monitor.importer.command import run_import

    board.say(f"  importing {', '.join(args.import_files)} (a backfill: the worker starts after)")
    options = argparse.Namespace(
        files=args.import_files,
        mapping=args.mapping,
        rejects=str(Path(args.data_dir) / "import-rejects.csv"),
        max_rejects=None,
        dry_run=False,
    )
    code = await asyncio.to_thread(run_import, settings, options)
    return code == 0


async def run_demo(args: argparse.Namespace) -> int:
    importing = bool(getattr(args, "import_files", None))
    if importing:
        if not args.mapping:
            print("cdi-monitor demo: --import needs --mapping", file=sys.stderr)
            return 2
        args.speed = 1.0  # imported history is judged on the real clock
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("CDI_DATABASE_URL") or f"sqlite:///{data_dir / 'ledger.db'}"
    broker = EmbeddedBroker(log_path=data_dir / "broker.log").start()
    port = free_port()
    origin = datetime.now(UTC)
    overrides = dict(
        kafka_bootstrap_servers=broker.bootstrap,
        database_url=database_url,
        web_host="127.0.0.1",
        web_port=port,
        clock_rate=args.speed,
        clock_origin=origin,
        app_id="cdi-monitor-demo",
    )
    settings = load_settings(**overrides)
    clock = AcceleratedClock(origin=origin, rate=args.speed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env.update({f"CDI_{k.upper()}": str(v) for k, v in overrides.items() if k != "clock_origin"})
    env["CDI_CLOCK_ORIGIN"] = origin.isoformat()
    env["CDI_DATABASE_URL"] = database_url
    board = Board(lines=not importing)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = None
    live_board = None
    try:
        await asyncio.to_thread(upgrade, database_url)
        board.say(
            "cdi-monitor demo: a force's imported exports, on the real clock."
            if importing
            else f"cdi-monitor demo: a simulated force like Leicestershire "
            f"(260,000 incidents a year) on a clock {args.speed:g} times faster than real: "
            f"a simulated hour passes every {3600 / args.speed:g} seconds."
        )
        if importing and not await _import_first(settings, args, board):
            return 1
        board.say("  starting the worker (about 10 seconds)...")
        worker = await _start_worker(env, data_dir / "worker.log", port)
        board.say(
            f"  broker    {broker.bootstrap} (embedded, in memory)\n"
            f"  ledger    {mask_url(database_url)} (tables incidents, alerts, crimes)\n"
            f"  worker    http://127.0.0.1:{port}/health and /metrics; "
            f"log {data_dir / 'worker.log'}\n"
            f"  topics    {settings.alerts_topic}, {settings.outcomes_topic}, "
            f"{settings.referrals_topic}, {settings.dead_letter_topic}\n"
            f"            (watch one: CDI_KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap} "
            f"cdi-monitor subscribe {settings.referrals_topic} --from-beginning)"
        )
        live_board, password = await start_demo_board(settings, clock)
        board.say(
            f"  board     {live_board.url}  sign in as {DEMO_SUPERVISOR} with password "
            f"{password} (made for this run)\n"
            + (
                "  The worker now reads the imported history as a replay; the summary below "
                "shows it catching up. Ctrl-C stops.\n"
                if importing
                else f"  The last {BACKFILL.total_seconds() / 3600:.0f} simulated hours are sent "
                "at once, then events arrive as they happen. Ctrl-C stops.\n"
            )
        )
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(_tail(settings, board, stop)),
            asyncio.create_task(_summaries(board, clock, stop)),
        ]
        if not importing:
            tasks.append(
                asyncio.create_task(
                    publish_simulation(
                        settings,
                        Simulation(ForceProfile(), seed=args.seed),
                        clock=clock,
                        backfill=BACKFILL,
                        stop=stop,
                    )
                )
            )
            await _send_a_malformed_event(settings)
        if args.run_for is not None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=args.run_for)
            except TimeoutError:
                stop.set()
        else:
            await stop.wait()
        board.say("\nstopping...")
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            if not task.done():
                task.cancel()
        board.say(board.summary(clock.now()))
        return 0
    finally:
        if live_board is not None:
            await live_board.stop()
        if worker is not None:
            await asyncio.to_thread(_stop_worker, worker)
        broker.stop()
