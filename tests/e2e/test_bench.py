"""``cdi-monitor bench`` at a small size: it runs end to end and writes a plausible table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.kafka import require_embedded_broker

pytestmark = pytest.mark.e2e


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return float(match.group(1).replace(",", ""))


def test_a_small_bench_run_writes_the_table_with_plausible_figures(tmp_path: Path) -> None:
    require_embedded_broker()
    out = tmp_path / "benchmarks.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "bench",
            "--events",
            "3000",
            "--floor-seconds",
            "20",
            "--pipeline-seconds",
            "60",
            "--year-days",
            "2",
            "--rate",
            "100",
            "--latency-seconds",
            "8",
            "--alerts",
            "2",
            "--memory-incidents",
            "5000",
            "--profile-seconds",
            "5",
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = out.read_text()
    assert "| Measure | Result | Target | Met |" in table
    assert "Produced by `cdi-monitor bench --events 3000" in table
    assert number(r"\| ([\d,]+) in [\d.]+ s \(", table) == 3000
    ceiling = number(r"dict matching \| ([\d,]+) events/s", table)
    pipeline = number(r"cdi_events_consumed_total` \| ([\d,]+) events/s", table)
    assert 100 < ceiling < 10_000_000 and 1 < pipeline < ceiling
    floor = number(r"the worker's app settings \| ([\d,]+) events/s", table)
    assert floor > 10
    assert number(r"Pipeline / Faust floor \| ([\d.]+)%", table) > 0
    rebuilt = number(r"new `CDI_APP_ID`, ledger included \| ([\d,]+) events in", table)
    assert rebuilt > 1000
    assert "**not finished**" not in table
    assert re.search(r"\| the same \| yes \|", table), "the two rebuilds published different events"
    assert "catching up:" in table or '"catch_up"' in table
    p50 = number(r"p50 / p95 / p99 \| ([\d,]+) /", table)
    assert 0 < p50 < 30_000  # milliseconds
    assert number(r"\(([\d,]+) outcomes", table) > 0
    delay = number(r"worst ([\d.]+) s", table)
    assert 0 <= delay < 30
    per_incident = number(r"\| ([\d,]+) bytes resident", table)
    assert 100 < per_incident < 100_000
    assert table in result.stdout  # printed as well as written
