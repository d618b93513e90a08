"""The command line as a new user meets it: clear one-line errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def cdi(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_worker_reports_a_bad_setting_in_one_line_and_exits_2() -> None:
    result = cdi("worker", env={"CDI_WEB_PORT": "eighty"})
    assert result.returncode == 2
    assert "CDI_WEB_PORT" in result.stderr and "Traceback" not in result.stderr


def test_the_worker_names_the_migration_when_the_ledger_is_not_migrated(tmp_path) -> None:
    result = cdi("worker", env={"CDI_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert result.returncode == 2
    assert "cdi-monitor migrate" in result.stderr and "Traceback" not in result.stderr


def test_the_worker_says_when_kafka_cannot_be_reached(tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/ledger.db"
    migrate = cdi("migrate", env={"CDI_DATABASE_URL": db})
    assert migrate.returncode == 0, migrate.stderr
    assert "revision" in migrate.stdout
    result = cdi(
        "worker",
        env={
            "CDI_DATABASE_URL": db,
            "CDI_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "CDI_STARTUP_TIMEOUT": "2s",
        },
    )
    assert result.returncode == 2
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr


def test_the_schemas_command_finds_the_committed_schemas_current() -> None:
    result = cdi("schemas", "--check", env={})
    assert result.returncode == 0 and "match the models" in result.stdout


def test_the_help_lists_every_command() -> None:
    result = cdi("--help", env={})
    for command in ("worker", "migrate", "simulate", "demo", "schemas", "subscribe"):
        assert command in result.stdout


def test_subscribe_says_when_kafka_cannot_be_reached() -> None:
    result = cdi(
        "subscribe",
        "victim-referrals",
        "--max",
        "1",
        env={"CDI_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "CDI_STARTUP_TIMEOUT": "2s"},
    )
    assert result.returncode == 2
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr
