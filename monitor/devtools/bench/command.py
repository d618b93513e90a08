"""``cdi-monitor bench``: every figure of docs/benchmarks.md in one run on one broker.

1. Simulate a national-sized stream (at least ``--events``), encode it once,
   produce it to fresh topics as fast as the broker takes it.
2. The ceiling: a plain aiokafka consumer decodes all of it (same pydantic
   models) and matches records to reports in a dict.
3. The Faust floor: a Faust agent that does nothing, with the worker's app
   settings, reads the same topics (``monitor.devtools.bench.floor``).
4. The pipeline: one worker consumes the same topics; its throughput is read
   from its own ``cdi_events_consumed_total`` over time.
5. Latency: a second, idle deployment; a steady ``--rate`` of events; the
   produce-to-outcome latency and the deadline-to-overdue-alert delay.
6. Rebuild: a year of a Leicestershire-size force (``--year-days``) read from
   the start by a new deployment of one worker, then of two; both must
   publish the same events (``monitor.devtools.bench.replay``). The year ends two
   weeks before the run, so every deadline and referral window in it has
   passed before either rebuild starts.
7. Memory per open incident, in a fresh process (``monitor.devtools.bench.memory``).

Where a target is missed the report says by how much, and the worker is
profiled (cProfile) on the rest of the backlog to show where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.adapters.kafka.embedded_broker import EmbeddedBroker
from monitor.adapters.kafka.topology import ensure_topics
from monitor.devtools.bench.ceiling import CeilingResult, consume_and_match
from monitor.devtools.bench.deployment import bench_settings, database_url, worker_env
from monitor.devtools.bench.latency import LatencyResult, measure, percentile
from monitor.devtools.bench.replay import Rebuild, rebuild, year_of_a_force
from monitor.devtools.bench.worker import BenchWorker
from monitor.devtools.bench.workload import produce_all, simulated_events

TARGET_RATIO = 0.25
TARGET_FLOOR_RATIO = 0.50
TARGET_REBUILD_S = 300.0
TARGET_P99_S = 0.250
TARGET_ALERT_DELAY_S = 2.0
TARGET_BYTES_PER_INCIDENT = 2048


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=1_000_000, help="events to produce")
    parser.add_argument(
        "--bootstrap",
        default=None,
        help="a running broker (host:port); default: start the embedded one",
    )
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--floor-seconds",
        type=float,
        default=60.0,
        help="longest time to let the do-nothing Faust agent read (default 60)",
    )
    parser.add_argument(
        "--pipeline-seconds",
        type=float,
        default=120.0,
        help="longest time to let the worker consume the backlog (default 120)",
    )
    parser.add_argument(
        "--year-days",
        type=float,
        default=365.0,
        help="days of a Leicestershire-size force to rebuild (default 365; 0 skips it)",
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument("--alerts", type=int, default=20, help="overdue alerts to time")
    parser.add_argument("--memory-incidents", type=int, default=1_000_000)
    parser.add_argument("--profile-seconds", type=float, default=45.0)
    parser.add_argument("--out", default="docs/benchmarks.md", help="where to write the table")
    parser.add_argument("--work-dir", default=None, help="logs, ledger and profiles (temp dir)")


@dataclass
class Report:
    command: str
    started: datetime
    machine: str
    load_before: str
    produced: int = 0
    produce_s: float = 0.0
    generate_s: float = 0.0
    simulated_span: str = ""
    ceiling: CeilingResult | None = None
    floor_events: float = 0.0
    floor_s: float = 0.0
    pipeline_events: float = 0.0
    pipeline_s: float = 0.0
    pipeline_done: bool = False
    latency: LatencyResult | None = None
    light_latency: LatencyResult | None = None
    memory: dict[str, float] = field(default_factory=dict)
    year_events: int = 0
    year_span: str = ""
    rebuilds: list[Rebuild] = field(default_factory=list)
    load_after: str = ""
    profiles: dict[str, str] = field(default_factory=dict)

    @property
    def pipeline_rate(self) -> float:
        return self.pipeline_events / self.pipeline_s if self.pipeline_s else 0.0

    @property
    def ratio(self) -> float:
        ceiling = self.ceiling.per_second if self.ceiling else 0.0
        return self.pipeline_rate / ceiling if ceiling else 0.0

    @property
    def floor_rate(self) -> float:
        return self.floor_events / self.floor_s if self.floor_s else 0.0

    @property
    def floor_ratio(self) -> float:
        return self.pipeline_rate / self.floor_rate if self.floor_rate else 0.0


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _machine() -> str:
    cpus = os.cpu_count() or 0
    with open("/proc/meminfo") as f:
        total_kb = int(f.readline().split()[1])
    return f"{cpus} CPUs, {total_kb / 1024 / 1024:.1f} GiB RAM, Python {sys.version.split()[0]}"


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def run_bench(args: argparse.Namespace, argv: list[str]) -> int:
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="cdi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report(
        command=" ".join(["cdi-monitor", "bench", *argv]),
        started=datetime.now(UTC),
        machine=_machine(),
        load_before=_load(),
    )
    broker: EmbeddedBroker | None = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        broker = EmbeddedBroker(log_path=work / "broker.log").start()
        bootstrap = broker.bootstrap
    say(f"broker {bootstrap}; work files in {work}")
    try:
        _throughput(args, report, bootstrap, work)
        _latency(args, report, bootstrap, work)
        _rebuilds(args, report, bootstrap, work)
        _memory(args, report)
    finally:
        if broker is not None:
            broker.stop()
    report.load_after = _load()
    table = render(report)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    say(f"written to {out}")
    return 0


def _throughput(args: argparse.Namespace, report: Report, bootstrap: str, work: Path) -> None:
    run = f"bench-{secrets.token_hex(3)}"
    settings = bench_settings(bootstrap, run, args.partitions, database_url(work, run))
    ensure_topics(settings)
    say(f"simulating {args.events:,} events")
    encoded = simulated_events(args.events, datetime.now(UTC))
    report.generate_s = encoded.seconds
    report.simulated_span = f"{encoded.first_at:%Y-%m-%d %H:%M} to {encoded.last_at:%Y-%m-%d %H:%M}"
    say(f"producing {len(encoded.events):,} events ({encoded.total_bytes / 1e6:.0f} MB)")
    report.produce_s = asyncio.run(produce_all(settings, encoded))
    report.produced = len(encoded.events)
    say(f"produced in {report.produce_s:.1f}s; ceiling consumer")
    report.ceiling = asyncio.run(consume_and_match(settings, report.produced, timeout_s=600))
    say(f"ceiling {report.ceiling.per_second:,.0f} events/s; the Faust floor")
    _floor(args, report, bootstrap, work, run)
    say(f"floor {report.floor_rate:,.0f} events/s; starting one worker")
    worker = BenchWorker(worker_env(settings), work / "pipeline-worker.log").launch()
    try:
        samples, report.pipeline_done = _backlog_samples(
            worker, report.produced, args.pipeline_seconds
        )
    finally:
        worker.stop()
    report.pipeline_events, report.pipeline_s = _moving(samples)
    say(
        f"pipeline {report.pipeline_rate:,.0f} events/s ({report.floor_ratio:.0%} of the floor, "
        f"{report.ratio:.0%} of the ceiling)"
    )
    if report.ratio < TARGET_RATIO or report.floor_ratio < TARGET_FLOOR_RATIO:
        # A second deployment (its own group, state and outputs) reads the same
        # backlog from the start under cProfile: no table recovery in the profile.
        profile = work / "pipeline.prof"
        say(f"below target: profiling a worker on the same backlog for {args.profile_seconds:.0f}s")
        again = f"{run}-profiled"
        profiled_settings = bench_settings(
            bootstrap, again, args.partitions, database_url(work, again), inputs=run
        )
        ensure_topics(profiled_settings)
        profiled = BenchWorker(
            worker_env(profiled_settings), work / "profile-worker.log", profile
        ).start()
        time.sleep(args.profile_seconds)
        profiled.stop()
        report.profiles["pipeline, one worker on the backlog"] = summarize(profile)


def _backlog_samples(
    worker: BenchWorker, produced: int, seconds: float, startup_s: float = 120.0
) -> tuple[list[tuple[float, float]], bool]:
    """(monotonic time, events handled) from the worker's first ``/metrics`` answer on.

    Sampling starts before the worker is ready, every 50 ms until the count has moved
    and for two seconds after: a small backlog is read in well under a second, and a
    rate needs a sample before the count moved and one after. A scrape of /metrics
    costs the worker, so later samples are 1 s apart, then 5 s. ``seconds`` counts
    from the first event handled; True when the whole backlog was handled.
    """
    samples: list[tuple[float, float]] = []
    give_up = time.monotonic() + startup_s
    moved_at: float | None = None
    while True:
        worker.check_running()
        try:
            count = worker.consumed()
        except (OSError, ValueError):  # not listening yet (URLError is an OSError)
            if time.monotonic() >= give_up:
                break
            time.sleep(0.05)
            continue
        now = time.monotonic()
        samples.append((now, count))
        if count >= produced:
            return samples, True
        if moved_at is None and count > samples[0][1]:
            moved_at, give_up = now, now + seconds
        if now >= give_up:
            break
        since = 0.0 if moved_at is None else now - moved_at
        interval = 0.05 if since < 2.0 else 1.0 if since < 15.0 else 5.0
        time.sleep(min(interval, give_up - now))
    if not samples:
        raise RuntimeError(f"the worker never answered /metrics; see {worker.log_path}")
    return samples, False


def _moving(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """(events, seconds) from the last sample before the count moved to the last one.

    Start-up and table recovery are not counted. (0, 0) when the samples do not show
    the count moving (say, the first answer already had the whole backlog).
    """
    idle = [i for i, (_, c) in enumerate(samples) if c == samples[0][1]]
    moving = samples[idle[-1] :]
    if len(moving) < 2:
        return 0.0, 0.0
    return moving[-1][1] - moving[0][1], moving[-1][0] - moving[0][0]


def _floor(args: argparse.Namespace, report: Report, bootstrap: str, work: Path, run: str) -> None:
    """The do-nothing Faust agent (``monitor.devtools.bench.floor``) on the same topics."""
    name = f"{run}-floor"
    settings = bench_settings(bootstrap, name, args.partitions, database_url(work, name), run)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env.update(worker_env(settings))
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "monitor.devtools.bench.floor",
            str(report.produced),
            str(args.floor_seconds),
            str(work / "floor.json"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=args.floor_seconds + 180,
        check=True,
    )
    figure = json.loads((work / "floor.json").read_text())
    report.floor_events, report.floor_s = figure["events"], figure["seconds"]


YEAR_ENDS_BEFORE_NOW = timedelta(days=14)
"""Longer than a deadline (24 h) plus a referral window (2 working days) over any holiday."""


def _rebuilds(args: argparse.Namespace, report: Report, bootstrap: str, work: Path) -> None:
    if args.year_days <= 0:
        return
    run = f"year-{secrets.token_hex(3)}"
    settings = bench_settings(bootstrap, run, args.partitions, database_url(work, run))
    ensure_topics(settings)
    say(f"simulating {args.year_days:g} days of a Leicestershire-size force")
    # Ended well before now: a deadline (24 h) or a referral window (working days)
    # falling due between the two rebuilds would be announced by the second only,
    # and the comparison would measure the wall clock, not the rebuilds.
    year = year_of_a_force(args.year_days, datetime.now(UTC) - YEAR_ENDS_BEFORE_NOW)
    report.year_events = len(year.events)
    report.year_span = f"{year.first_at:%Y-%m-%d} to {year.last_at:%Y-%m-%d}"
    say(f"producing {report.year_events:,} events")
    asyncio.run(produce_all(settings, year))
    for workers in (1, 2):
        say(f"rebuilding with {workers} worker(s) and a new application id")
        result = rebuild(bootstrap, work, run, report.year_events, workers=workers, timeout_s=1800)
        report.rebuilds.append(result)
        say(
            f"{result.events:,} events in {result.seconds:,.0f} s "
            f"({result.per_second:,.0f}/s); {result.outputs:,} events published"
        )


def _steady_run(
    args: argparse.Namespace, bootstrap: str, work: Path, seconds: float, profile: Path | None
) -> LatencyResult:
    """A fresh deployment and worker, fed ``args.rate`` events a second for ``seconds``."""
    run = f"lat-{secrets.token_hex(3)}"
    settings = bench_settings(bootstrap, run, args.partitions, database_url(work, run))
    ensure_topics(settings)
    log = work / f"{'profiled-' if profile else ''}latency-worker.log"
    worker = BenchWorker(worker_env(settings), log, profile).start()
    try:
        return asyncio.run(
            measure(
                settings,
                rate=args.rate,
                seconds=seconds,
                warmup_s=min(5.0, seconds / 4),
                alerts=args.alerts,
            )
        )
    finally:
        worker.stop()


def _latency(args: argparse.Namespace, report: Report, bootstrap: str, work: Path) -> None:
    say(f"latency at {args.rate:g} events/s for {args.latency_seconds:g}s")
    report.latency = _steady_run(args, bootstrap, work, args.latency_seconds, None)
    lat = report.latency
    light = max(args.rate / 5, 1.0)
    say(f"latency at {light:g} events/s for {args.latency_seconds:g}s")
    light_args = argparse.Namespace(**{**vars(args), "rate": light})
    report.light_latency = _steady_run(light_args, bootstrap, work, args.latency_seconds, None)
    say(
        f"p50 {percentile(lat.latencies_s, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(lat.latencies_s, 0.99) * 1000:.0f} ms; "
        f"{len(lat.alert_delays_s)} of {lat.alerts_expected} overdue alerts"
    )
    p99 = percentile(lat.latencies_s, 0.99)
    worst = max(lat.alert_delays_s, default=float("inf"))
    if p99 >= TARGET_P99_S or worst >= TARGET_ALERT_DELAY_S:
        profile = work / "latency.prof"
        say("latency or alert delay over target: profiling a worker at the same rate")
        _steady_run(args, bootstrap, work, max(args.profile_seconds, 10.0), profile)
        report.profiles["steady load (latency and alert delay)"] = summarize(profile)


def _memory(args: argparse.Namespace, report: Report) -> None:
    say(f"memory for {args.memory_incidents:,} open incidents")
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "monitor.devtools.bench.memory", str(args.memory_incidents)],
        capture_output=True,
        text=True,
        check=True,
    )
    report.memory = json.loads(result.stdout)


def summarize(profile: Path, top: int = 15) -> str:
    """The functions the worker spent its own time in, most first."""
    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    entries = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, name), (_, calls, own, cumulative, _) in ranked:
        where = _short(filename)
        rows.append(
            f"| {own / total:.0%} | {own:.1f} | {cumulative:.1f} | {calls:,} | "
            f"`{where}:{line}` `{name}` |"
        )
    by_area: dict[str, float] = {}
    for (filename, _, name), (_, _, own, _, _) in entries.items():
        area = _area(filename, name)
        by_area[area] = by_area.get(area, 0.0) + own
    areas = "\n".join(
        f"| {area} | {own:.1f} s | {own / total:.0%} |"
        for area, own in sorted(by_area.items(), key=lambda kv: kv[1], reverse=True)[:10]
    )
    header = (
        f"Total profiled time {total:.1f} s of the worker's main thread (cProfile; the "
        "ledger's database writes run in a process of their own and are not in it).\n\n"
        "Where the time went, by area:\n\n| area | own time | share |\n|---|---|---|\n"
        f"{areas}\n\nThe functions with the most own time:\n\n"
        "| share | own s | cumulative s | calls | function |\n|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows)


def _area(filename: str, name: str) -> str:
    """A readable area for a profiled function: idle, a library, or the project's code."""
    if "select.epoll" in name or "poll' of 'select" in name:
        return "waiting for the network (epoll: idle)"
    for package in ("faust", "mode", "aiokafka", "kafka", "pydantic", "sqlalchemy", "logging"):
        if f"site-packages/{package}/" in filename or f"/{package}/__init__" in filename:
            return package
    if "pydantic_core" in name or "pydantic_core" in filename:
        return "pydantic"
    for package in ("monitor/", "streams/", "schemas/"):
        if f"/{package}" in filename and "site-packages" not in filename:
            return "cdi-monitor (" + package.rstrip("/") + ")"
    if "asyncio" in filename:
        return "asyncio event loop"
    if filename == "~":
        return "built-ins (socket, json, ...)"
    return "other Python"


def _short(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if "/lib/python3" in filename:
        return filename.split("/lib/python3", 1)[1].split("/", 1)[-1]
    for package in ("monitor/", "streams/", "schemas/"):
        if package in filename:
            return package + filename.split(package, 1)[1]
    return filename


def _light_row(r: Report) -> str:
    light = r.light_latency
    if light is None:
        return ""
    p50, p95, p99 = (percentile(light.latencies_s, q) for q in (0.5, 0.95, 0.99))
    return (
        f"| The same at {light.rate:,.0f} events/s (for comparison) | "
        f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} / {p99 * 1000:,.0f} ms "
        f"({len(light.latencies_s):,} outcomes, {light.missing:,} missing); overdue alerts "
        f"{_alert_delays(light.alert_delays_s, light.alerts_expected)} | | |\n"
    )


def _alert_delays(delays: list[float], expected: int) -> str:
    """The deadline-to-alert delays in words; alerts never read are counted, not averaged."""
    if not delays:
        return f"none of {expected} read before the run ended"
    unread = expected - len(delays)
    return (
        f"worst {max(delays):.2f} s, median {percentile(delays, 0.5):.2f} s after the deadline "
        f"({len(delays)} of {expected}"
        + (f"; {unread} not read before the run ended" if unread else "")
        + ")"
    )


def _rebuild_rows(r: Report) -> list[str]:
    """The year's rebuild by one worker and by two, and whether both published the same."""
    rows = []
    for run in r.rebuilds:
        done = "" if run.finished else "; **not finished** before the bench gave up"
        what = (
            f"{run.events:,} events in {run.seconds:,.0f} s "
            f"({run.per_second:,.0f} events/s; ready after {run.seconds_to_ready:.0f} s; "
            f"{run.ledger_rows:,.0f} ledger rows written, {run.outputs:,} events published){done}"
        )
        if run.workers == 1:
            ok = run.finished and run.seconds < TARGET_REBUILD_S
            miss = f"{run.seconds - TARGET_REBUILD_S:,.0f} s over"
            rows.append(
                f"| Rebuild: a year of a Leicestershire-size force ({r.year_span}) read from the "
                f"start by one worker with a new `CDI_APP_ID`, ledger included | {what} | "
                f"under 5 minutes | {_met(ok, miss)} |"
            )
        else:
            rows.append(
                f"| The same by {run.workers} workers on this machine, combined | {what} | | |"
            )
    if len(r.rebuilds) == 2:
        one, two = r.rebuilds
        same = one.digest == two.digest and one.outputs == two.outputs
        rows.append(
            f"| Distinct events published by the two rebuilds (outcomes, alerts, referrals) | "
            f"{one.outputs:,} and {two.outputs:,}, digests {one.digest} and {two.digest} | "
            f"the same | {_met(same, 'they differ')} |"
        )
    return rows


def _met(ok: bool, miss: str) -> str:
    return "yes" if ok else f"**no**: {miss}"


def render(r: Report) -> str:
    ceiling = r.ceiling.per_second if r.ceiling else 0.0
    lat = r.latency or LatencyResult(rate=0, seconds=0, sent=0)
    p50, p95, p99 = (percentile(lat.latencies_s, q) for q in (0.5, 0.95, 0.99))
    delays = lat.alert_delays_s
    worst_delay = max(delays) if delays else float("nan")
    per_incident = r.memory.get("bytes_per_incident", float("nan"))
    ratio_ok = r.ratio >= TARGET_RATIO
    ratio_miss = (
        f"{TARGET_RATIO - r.ratio:.1%} points short "
        f"({TARGET_RATIO / max(r.ratio, 1e-9):.1f}x the throughput needed)"
    )
    p99_ok = p99 < TARGET_P99_S and not lat.missing
    p99_miss = f"p99 {(p99 - TARGET_P99_S) * 1000:,.0f} ms over"
    delay_ok = worst_delay < TARGET_ALERT_DELAY_S and len(delays) == lat.alerts_expected
    delay_miss = (
        f"{worst_delay - TARGET_ALERT_DELAY_S:.2f} s over" if delays else "no alert within the run"
    )
    if delays and len(delays) < lat.alerts_expected:
        delay_miss += f"; {lat.alerts_expected - len(delays)} never read"
    floor_ok = r.floor_ratio >= TARGET_FLOOR_RATIO
    floor_miss = (
        f"{TARGET_FLOOR_RATIO - r.floor_ratio:.1%} points short "
        f"({TARGET_FLOOR_RATIO / max(r.floor_ratio, 1e-9):.1f}x the throughput needed)"
    )
    memory_ok = per_incident < TARGET_BYTES_PER_INCIDENT
    memory_miss = f"{per_incident - TARGET_BYTES_PER_INCIDENT:,.0f} bytes over"
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{r.command}` on {r.started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {r.machine}; the broker ran on it too. Load average (1, 5, 15 min) "
        f"{r.load_before} at the start and {r.load_after} at the end.",
        "",
        "| Measure | Result | Target | Met |",
        "|---|---|---|---|",
        f"| Events produced (simulated national stream, {r.simulated_span}) | "
        f"{r.produced:,} in {r.produce_s:.1f} s ({r.produced / max(r.produce_s, 1e-9):,.0f}/s); "
        f"generated and encoded in {r.generate_s:.1f} s | at least 1,000,000 | "
        f"{_met(r.produced >= 1_000_000, f'{1_000_000 - r.produced:,} short (a smaller run)')} |",
        f"| Ceiling: plain aiokafka consumer, pydantic decoding, dict matching | "
        f"{ceiling:,.0f} events/s ({r.ceiling.events if r.ceiling else 0:,} events, "
        f"{r.ceiling.measured if r.ceiling else 0:,} recordings matched) | | |",
        f"| Pipeline: one worker, from its `cdi_events_consumed_total` | "
        f"{r.pipeline_rate:,.0f} events/s ({r.pipeline_events:,.0f} events in "
        f"{r.pipeline_s:.0f} s{'; backlog finished' if r.pipeline_done else ''}) | | |",
        f"| Pipeline / ceiling | {r.ratio:.1%} | at least 25% | {_met(ratio_ok, ratio_miss)} |",
        f"| Faust floor: a Faust agent that does nothing, the worker's app settings | "
        f"{r.floor_rate:,.0f} events/s ({r.floor_events:,.0f} events in {r.floor_s:.0f} s) | | |",
        f"| Pipeline / Faust floor | {r.floor_ratio:.1%} | at least 50% | "
        f"{_met(floor_ok, floor_miss)} |",
        f"| Produce-to-outcome latency at {lat.rate:,.0f} events/s, p50 / p95 / p99 | "
        f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} / {p99 * 1000:,.0f} ms "
        f"({len(lat.latencies_s):,} outcomes, {lat.missing:,} missing) | p99 under 250 ms | "
        f"{_met(p99_ok, p99_miss)} |",
        f"{_light_row(r)}"
        f"| Deadline to overdue alert (read by a subscriber) | "
        f"{_alert_delays(delays, lat.alerts_expected)} | within 2 s | "
        f"{_met(delay_ok, delay_miss)} |",
        f"| Memory per open incident (`memory://` table, {r.memory.get('incidents', 0):,.0f} "
        f"incidents) | {per_incident:,.0f} bytes resident "
        f"({r.memory.get('encoded_state_bytes_per_incident', 0):,.0f} bytes of encoded state) | "
        f"under 2 KiB | {_met(memory_ok, memory_miss)} |",
        f"| Rebuilding the wake-up index of those incidents (after a rebalance) | "
        f"{r.memory.get('rebuild_seconds', 0):.1f} s | | |",
        *_rebuild_rows(r),
        "",
    ]
    said = [line for run in r.rebuilds for line in run.said]
    if said:
        lines += [
            "What the rebuilding workers said while catching up (`/ready`, then the log line "
            "they write every 10 s):",
            "",
            *[f"    {line[-300:]}" for line in said],
            "",
        ]
    for name, summary in r.profiles.items():
        lines += [f"## Profile: {name}", "", summary, ""]
    lines += NOTES
    return "\n".join(lines)


NOTES = [
    "## How each figure is measured",
    "",
    "- **Stream**: the force simulator (`monitor/devtools/simulate`) scaled to every force in "
    "England and Wales (15 million incidents a year): reports, updates, closings, repeat "
    "calls, duplicates, crime records (some naming several incidents, some none), "
    "cancellations. Encoded once, then produced with aiokafka in 1 MB batches.",
    "- **Ceiling**: one aiokafka consumer in the bench process reads both input topics "
    "from the start, decodes every value with `monitor.adapters.wire.inbound` (the "
    "worker's own pydantic models and checks) and pairs crime records with reports in a "
    "dict. No state is saved and nothing is published: it is the most a Python consumer "
    "of this broker can do on this machine, not a design that could replace the pipeline.",
    "- **Pipeline**: one `cdi-monitor worker` process on the same topics, with the "
    "defaults (6 partitions, `memory://` table with its changelog, ledger in SQLite). "
    "Throughput is the growth of its own `cdi_events_consumed_total` (plus rejected) "
    "between the first and the last sample of `/metrics`, so start-up is not counted. "
    "The worker reads both input topics in batches (`CDI_BATCH_SIZE`); for each batch "
    "it writes each changed incident once to the table (one changelog record per "
    "incident), one ledger record for the whole batch, a link record per partition "
    "only for crimes whose incidents another worker owns, and outcomes and alerts "
    "when due.",
    "- **Latency**: a fresh deployment and worker; the bench sends reports and, half a "
    "second later, their crime records at a steady total rate, and a subscriber on the "
    "outcomes topic notes when each measurement arrives. Latency is from handing the "
    "crime record to the producer to reading the outcome: one hop through Kafka when "
    "this worker owns the incident's partition (with one worker, always), plus "
    "delivery to the subscriber.",
    "- **Overdue alert delay**: incidents reported 24 hours, less a few seconds, before the "
    "run, never recorded; the delay is from each deadline to a subscriber reading its "
    "`cdi.recording.overdue`, on the real clock. The worker advances each partition's "
    "clock every `CDI_TICK_INTERVAL` (500 ms) through a tick message on the links topic.",
    "- **Memory per open incident**: in a fresh process, a million open incidents are "
    "folded through the real `RecordingClock` into a dict of encoded states, which is what "
    "Faust's `memory://` table holds, with the wake-up index; the growth of the resident "
    "set is divided by the count. Measured in-process, not in a worker: a worker's "
    "resident set also holds Faust, aiokafka and buffers, which do not grow with incidents.",
    "- **The embedded broker** (tansu) is what this machine has. Its end offsets and fetch "
    "waits differ from Kafka's (see `monitor/adapters/faust/embedded_consumer.py`), and "
    "it shares the machine's two cores with the worker. Figures on a Kafka cluster will "
    "differ.",
    "",
]
