"""The demo, as a newcomer runs it: alerts and measurements on screen within a minute."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
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
    board_seen = _sign_in_to_the_board_when_it_is_printed(lines, process)
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
    assert board_seen.get("role") == "supervisor", (board_seen, output)
    assert board_seen.get("rows", 0) > 0, (board_seen, output)

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


def _sign_in_to_the_board_when_it_is_printed(
    lines: list[tuple[float, str]], process: subprocess.Popen[str]
) -> dict[str, object]:
    """Sign in with the printed demo credentials; wait until the board lists an incident."""
    seen: dict[str, object] = {}
    deadline = time.monotonic() + 90
    match = None
    while match is None and time.monotonic() < deadline and process.poll() is None:
        match = next(
            (
                m
                for _, line in list(lines)
                if (
                    m := re.search(
                        r"board\s+(http://\S+/)\s+sign in as (\S+) with password (\S+)", line
                    )
                )
            ),
            None,
        )
        time.sleep(0.5)
    if match is None:
        return seen
    url, username, password = match.groups()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = urllib.request.Request(  # noqa: S310 - the demo's own loopback URL
        f"{url}api/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with opener.open(login, timeout=10) as response:
        seen["role"] = json.loads(response.read())["role"]
    while time.monotonic() < deadline and process.poll() is None:
        with opener.open(f"{url}api/board", timeout=10) as response:
            seen["rows"] = len(json.loads(response.read())["rows"])
        if seen["rows"]:
            break
        time.sleep(1)
    return seen
