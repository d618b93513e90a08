"""The demo, as a newcomer runs it: alerts and measurements on screen within a minute."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.kafka import require_embedded_broker

pytestmark = pytest.mark.e2e


def test_the_demo_shows_alerts_and_measurements_within_a_minute_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    require_embedded_broker()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--run-for", "45", "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.monotonic() - started, line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = process.wait(timeout=150)
    reader.join(timeout=5)
    output = "\n".join(line for _, line in lines)
    assert code == 0, output

    def first(pattern: str) -> float:
        return next((t for t, line in lines if re.search(pattern, line)), float("inf"))

    assert first(r"  OVERDUE  ") < 60, output
    assert first(r"  DUE SOON ") < 60, output
    assert first(r"measured [1-9]\d*: ") < 60, output
    assert first(r"DEAD LETTER .*not an RFC 3339 timestamp") < 60, output
    assert "http://127.0.0.1:" in output and "/health" in output

    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.connect() as connection:
        recorded = connection.execute(
            text("SELECT count(*) FROM incidents WHERE status IN ('recorded', 'recorded_late')")
        ).scalar_one()
        overdue = connection.execute(
            text("SELECT count(*) FROM alerts WHERE overdue_at IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    assert recorded > 100 and overdue > 0
