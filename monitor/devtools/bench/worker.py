"""One worker process for the benchmark, started as an operator would, and read through /metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from monitor.adapters.kafka.embedded_broker import free_port


class BenchWorker:
    """``python -m monitor worker`` with the given ``CDI_*`` settings, optionally profiled."""

    def __init__(self, env: dict[str, str], log_path: Path, profile_to: Path | None = None):
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
        self.env.update(env)
        self.env.update(CDI_WEB_HOST="127.0.0.1", CDI_WEB_PORT=str(self.port))
        self.log_path = log_path
        self.profile_to = profile_to
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> BenchWorker:
        """Start the process and return at once (``start`` also waits for ``/ready``)."""
        profile = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to else []
        command = [sys.executable, *profile, "-m", "monitor", "worker", "--migrate"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def check_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"the worker exited; see {self.log_path}")

    def start(self, timeout_s: float = 120.0) -> BenchWorker:
        self.launch()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_running()
            if self._ready():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the worker was not ready after {timeout_s:.0f}s; see {self.log_path}")

    def _get(self, path: str) -> bytes:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return bytes(response.read())

    def _ready(self) -> bool:
        try:
            return bool(json.loads(self._get("/ready")).get("ready"))
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def counter(self, *names: str) -> float:
        """The sum of every sample of the named metrics (all labels)."""
        total = 0.0
        text = self._get("/metrics").decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in names:
                    total += sample.value
        return total

    def consumed(self) -> float:
        return self.counter("cdi_events_consumed_total", "cdi_events_rejected_total")

    def ready_body(self) -> dict[str, object]:
        """What ``/ready`` says (also while not ready: its body says why)."""
        try:
            return dict(json.loads(self._get("/ready")))
        except urllib.error.HTTPError as exc:
            return dict(json.loads(exc.read()))

    def ledger_lag(self) -> float:
        """Ledger records the worker has not read yet (``cdi_consumer_lag_messages``)."""
        total = 0.0
        text = self._get("/metrics").decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "cdi_consumer_lag_messages" and sample.labels.get(
                    "topic", ""
                ).endswith("-ledger"):
                    total += sample.value
        return total

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def stop(self, timeout_s: float = 60.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
