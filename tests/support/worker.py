"""A worker as a user runs it: ``python -m monitor worker`` in its own process."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from monitor.adapters.kafka.embedded_broker import free_port


@dataclass
class Deployment:
    """The settings of one monitor deployment: its topics, group, database and timing."""

    bootstrap: str
    database_url: str
    name: str = field(default_factory=lambda: f"t{secrets.token_hex(4)}")
    partitions: int = 4
    inputs: str | None = None  # share another deployment's input topics
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def incidents(self) -> str:
        return f"{self.inputs or self.name}-incidents"

    @property
    def crime_records(self) -> str:
        return f"{self.inputs or self.name}-crime-records"

    @property
    def outcomes(self) -> str:
        return f"{self.name}-recording-outcomes"

    @property
    def alerts(self) -> str:
        return f"{self.name}-recording-alerts"

    @property
    def dead_letters(self) -> str:
        return f"{self.name}-dead-letters"

    @property
    def referrals(self) -> str:
        return f"{self.name}-victim-referrals"

    def create_topics(self) -> None:
        """Create the topics as a worker would, before anything is produced to them.

        A producer writing to a missing topic would have the broker create it
        with its own default partition count.
        """
        from monitor.adapters.kafka.topology import ensure_topics
        from monitor.settings import Settings

        values = {
            k.removeprefix("CDI_").lower(): v
            for k, v in self.env(1).items()
            if k.startswith("CDI_")
        }
        ensure_topics(Settings(**values))

    def env(self, web_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
        env.update(
            CDI_KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            CDI_DATABASE_URL=self.database_url,
            CDI_APP_ID=self.name,
            CDI_WEB_HOST="127.0.0.1",
            CDI_WEB_PORT=str(web_port),
            CDI_INCIDENTS_TOPIC=self.incidents,
            CDI_CRIME_RECORDS_TOPIC=self.crime_records,
            CDI_OUTCOMES_TOPIC=self.outcomes,
            CDI_ALERTS_TOPIC=self.alerts,
            CDI_DEAD_LETTER_TOPIC=self.dead_letters,
            CDI_REFERRALS_TOPIC=self.referrals,
            CDI_TOPIC_PARTITIONS=str(self.partitions),
            CDI_TICK_INTERVAL="500ms",
            CDI_BROKER_SESSION_TIMEOUT="10s",
            CDI_BROKER_REBALANCE_TIMEOUT="5s",
            CDI_LOG_LEVEL="info",
        )
        env.update(self.extra)
        return env


class WorkerProcess:
    def __init__(self, deployment: Deployment, log_dir: Path) -> None:
        self.deployment = deployment
        self.port = free_port()
        self.log_path = log_dir / f"worker-{deployment.name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0, migrate: bool = False) -> WorkerProcess:
        command = [sys.executable, "-m", "monitor", "worker"] + (["--migrate"] if migrate else [])
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.deployment.env(self.port), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if self.ready():
                return self
            time.sleep(0.3)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.log()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def ready(self) -> bool:
        try:
            status, body = self.get("/ready")
        except OSError:
            return False
        return status == 200 and json.loads(body).get("ready") is True

    def health(self) -> dict:
        return json.loads(self.get("/health")[1])

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = self.get("/metrics")[1].decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include ``labels``."""
        total = 0.0
        for (sample, sample_labels), value in self.metrics().items():
            if sample == name and set(labels.items()) <= set(sample_labels):
                total += value
        return total

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self, tail: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-tail:])
