"""Command-line tools the deployment tests run (promtool, amtool, prometheus, alertmanager).

They come from Debian's ``prometheus`` and ``prometheus-alertmanager``
packages (``./test.sh`` installs them). Without one a test is skipped, except
under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def require_tool(name: str, *aliases: str) -> str:
    """The tool's path; ``aliases`` are other names it goes by (Debian renames some)."""
    for candidate in (name, *aliases):
        path = shutil.which(candidate)
        if path is not None:
            return path
    reason = f"{name} is not installed (apt-get install prometheus prometheus-alertmanager)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: these tests must run, not skip)")
    pytest.skip(reason)


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")
