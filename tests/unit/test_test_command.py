"""./test.sh, the README's test command, on a machine that has nothing yet: it installs only what
is missing (apt-get as root; otherwise it stops at once with the command to run), then the Node
packages, the virtual environment, and runs pytest with the arguments it was given.

The machine is simulated: the script runs with a PATH of stand-ins that record how they were
called, so no package is installed and nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PACKAGES = "chromium prometheus prometheus-alertmanager docker-compose nodejs npm"
COMMANDS_OF_THE_PACKAGES = [
    "chromium",
    "promtool",
    "prometheus",
    "amtool",
    "prometheus-alertmanager",
    "docker-compose",
    "node",
    "npm",
]
# What the script itself may use from the real machine.
UTILITIES = ["bash", "dirname", "cmp", "cp", "mkdir", "ln"]

STAND_IN = """#!/bin/bash
echo "{name} $*" >> "$CALLS"
{action}
"""
ACTIONS = {
    "id": 'echo "$FAKE_UID"',
    # python3 -m venv DIR makes DIR/bin/python, which records its calls as fake-python.
    "python3": (
        '[[ "$1 $2" == "-m venv" ]] && mkdir -p "$3/bin" '
        '&& ln -s "$(command -v fake-python)" "$3/bin/python"; exit 0'
    ),
    "fake-python": "exit 0",
    "npm": "mkdir -p node_modules",
    "apt-get": "exit 0",
}


class Machine:
    def __init__(self, tmp_path: Path, have: list[str], uid: int) -> None:
        self.repo = tmp_path / "clone"
        (self.repo / "tools" / "asyncapi").mkdir(parents=True)
        shutil.copy(ROOT / "test.sh", self.repo)
        shutil.copy(ROOT / "pyproject.toml", self.repo)
        shutil.copy(ROOT / "tools/asyncapi/package-lock.json", self.repo / "tools/asyncapi")
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name in UTILITIES:
            found = shutil.which(name)
            assert found, name
            (self.bin / name).symlink_to(found)
        for name in ["id", "python3", "fake-python", "apt-get", *have]:
            stand_in = self.bin / name
            action = ACTIONS.get(name, "exit 0")
            stand_in.write_text(STAND_IN.format(name=name, action=action))
            stand_in.chmod(0o755)
        self.calls = tmp_path / "calls"
        self.calls.touch()
        self.uid = uid

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.bin), "CALLS": str(self.calls), "FAKE_UID": str(self.uid)}
        return subprocess.run(
            [str(self.bin / "bash"), str(self.repo / "test.sh"), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def called(self) -> list[str]:
        lines = self.calls.read_text().splitlines()
        return [line for line in lines if not line.startswith("id ")]


def test_without_root_it_stops_at_once_with_the_exact_apt_get_command(tmp_path: Path) -> None:
    machine = Machine(tmp_path, have=[], uid=1000)
    result = machine.run()
    assert result.returncode != 0
    expected = f"sudo apt-get update && sudo apt-get install -y {DEBIAN_PACKAGES}"
    assert expected in result.stderr
    assert not [c for c in machine.called() if not c.startswith("python3 -c")], "ran on"


def test_without_root_only_the_missing_packages_are_named(tmp_path: Path) -> None:
    have = [c for c in COMMANDS_OF_THE_PACKAGES if c not in {"amtool", "docker-compose"}]
    machine = Machine(tmp_path, have=have, uid=1000)
    result = machine.run()
    assert result.returncode != 0
    assert "apt-get install -y prometheus-alertmanager docker-compose\n" in result.stderr


def test_as_root_it_installs_what_is_missing_then_everything_else_then_runs_pytest(
    tmp_path: Path,
) -> None:
    machine = Machine(tmp_path, have=["node", "npm"], uid=0)
    result = machine.run("tests/unit", "-x")
    assert result.returncode == 0, result.stderr
    assert machine.called() == [
        "python3 -c import ensurepip, venv",
        "apt-get update",
        f"apt-get install -y {DEBIAN_PACKAGES.removesuffix(' nodejs npm')}",
        "npm ci --no-audit --no-fund --loglevel=error",
        "python3 -m venv .venv",
        "fake-python -m pip install -q -e .[embedded,dev]",
        "fake-python -m pytest tests/unit -x",
    ]


def test_with_everything_in_place_it_only_runs_pytest(tmp_path: Path) -> None:
    machine = Machine(tmp_path, have=COMMANDS_OF_THE_PACKAGES, uid=1000)
    assert machine.run().returncode == 0
    machine.calls.write_text("")
    result = machine.run("-k", "board")
    assert result.returncode == 0, result.stderr
    assert machine.called() == [
        "python3 -c import ensurepip, venv",
        "fake-python -m pytest -k board",
    ]


def test_ci_and_the_readme_run_this_script() -> None:
    # tests/unit/test_static_checks.py checks that the README shows what .ci/run runs.
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.split("# The README's test command, exactly:\n", 1)[1].strip() == "./test.sh"
    assert os.access(ROOT / "test.sh", os.X_OK)
