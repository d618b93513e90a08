"""Alertmanager and the example webhook receiver as processes, for the tests (loopback only)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitor.adapters.kafka.embedded_broker import free_port
from tests.support.tools import DEPLOY, require_tool, wait_for_port

ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def local_alertmanager_config(receiver_port: int) -> dict[str, Any]:
    """The deployed configuration, sending to a receiver on loopback, with a short group wait."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            hook["url"] = hook["url"].replace("alert-webhook:8080", f"127.0.0.1:{receiver_port}")
    config["route"]["group_wait"] = "1s"  # the deployed 30s would only slow the tests
    return config


@contextmanager
def running(
    command: list[str], log_path: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[int]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def alertmanager(config: Path, workdir: Path) -> Iterator[int]:
    """A real Alertmanager (no clustering) on a free port; yields the port."""
    port = free_port()
    command = [
        require_tool("prometheus-alertmanager", "alertmanager"),
        f"--config.file={config}",
        f"--storage.path={workdir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with running(command, workdir / "alertmanager.log", port):
        yield port


@contextmanager
def webhook_receiver(log_path: Path) -> Iterator[int]:
    """deploy/alert-webhook/receiver.py on a free port; it prints each alert to ``log_path``."""
    port = free_port()
    command = [sys.executable, str(DEPLOY / "alert-webhook" / "receiver.py")]
    with running(command, log_path, port, env={"PORT": str(port), "HOST": "127.0.0.1"}):
        yield port
