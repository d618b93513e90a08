"""The Alertmanager configuration: valid, routes each alert to its team, groups and inhibits.

``amtool`` checks the file and resolves routes; a real Alertmanager (Debian's
binary, on loopback) shows the grouping and the inhibition with real alerts.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.alerting import alertmanager, local_alertmanager_config, webhook_receiver
from tests.support.tools import DEPLOY, require_tool

pytestmark = pytest.mark.deploy

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args], capture_output=True, text=True, check=False
    )


def test_amtool_accepts_the_configuration() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (
            {"alertname": "CdiIncidentsOverdue", "team": "crime-bureau", "severity": "warning"},
            "crime-bureau-ticket",
        ),
        (
            {"alertname": "CdiRecordingBudgetFastBurn", "team": "crime-bureau", "severity": "page"},
            "crime-bureau-page",
        ),
        (
            {
                "alertname": "CdiRecordingBudgetSlowBurn",
                "team": "crime-bureau",
                "severity": "ticket",
            },
            "crime-bureau-ticket",
        ),
        (
            {"alertname": "CdiMonitorStale", "team": "operations", "severity": "page"},
            "operations-page",
        ),
        (
            {"alertname": "CdiDeadLetters", "team": "operations", "severity": "ticket"},
            "operations-ticket",
        ),
        ({"alertname": "SomethingElse"}, "operations-ticket"),
    ],
)
def test_each_alert_is_routed_to_its_teams_receiver(labels: dict[str, str], receiver: str) -> None:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receiver}",
        *pairs,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_labels_reach_the_intended_receivers() -> None:
    """Each alert rule's own labels, not hand-written ones, resolve to its team's receiver."""
    for path in sorted((DEPLOY / "prometheus" / "rules").glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                labels = rule["labels"]
                page = "page" if labels["severity"] == "page" else "ticket"
                expected = f"{labels['team']}-{page}"
                pairs = [f"alertname={rule['alert']}"] + [f"{k}={v}" for k, v in labels.items()]
                result = amtool(
                    "config",
                    "routes",
                    "test",
                    f"--config.file={CONFIG}",
                    f"--verify.receivers={expected}",
                    *pairs,
                )
                assert result.returncode == 0, (rule["alert"], result.stdout)


class Alertmanager:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v2"

    def post(self, alerts: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(  # noqa: S310
            f"{self.base}/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Alertmanager]:
    with alertmanager(CONFIG, tmp_path) as port:
        yield Alertmanager(port)


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15) -> Any:
    """What ``read`` returns once ``done`` holds (Alertmanager applies alerts asynchronously)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def alert(name: str, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": name},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


def overdue(division: str, category: str) -> dict[str, Any]:
    return alert(
        "CdiIncidentsOverdue",
        team="crime-bureau",
        severity="warning",
        depends_on="monitor",
        force="leicestershire",
        division=division,
        category=category,
    )


def test_overdue_alerts_are_grouped_by_force_and_division(manager: Alertmanager) -> None:
    manager.post(
        [overdue("charnwood", "theft"), overdue("charnwood", "violence"), overdue("city", "theft")]
    )
    groups = eventually(
        lambda: manager.get("/alerts/groups"),
        lambda gs: sum(len(g["alerts"]) for g in gs) == 3,
    )
    by_division = {
        g["labels"]["division"]: (g["receiver"]["name"], len(g["alerts"])) for g in groups
    }
    assert by_division == {
        "charnwood": ("crime-bureau-ticket", 2),
        "city": ("crime-bureau-ticket", 1),
    }
    assert all(
        g["labels"]
        == {
            "alertname": "CdiIncidentsOverdue",
            "force": "leicestershire",
            "division": g["labels"]["division"],
        }
        for g in groups
    )


def test_a_stale_monitor_inhibits_the_alerts_that_depend_on_it(manager: Alertmanager) -> None:
    lag = alert("CdiDeadLetters", team="operations", severity="ticket", topic="incidents")
    manager.post([overdue("charnwood", "theft"), lag])
    eventually(
        lambda: manager.get("/alerts"),
        lambda alerts: len(alerts) == 2 and {a["status"]["state"] for a in alerts} == {"active"},
    )

    manager.post([alert("CdiMonitorStale", team="operations", severity="page")])
    alerts = eventually(
        lambda: manager.get("/alerts"),
        lambda alerts: (
            len(alerts) == 3 and any(a["status"]["state"] == "suppressed" for a in alerts)
        ),
    )
    states = {a["labels"]["alertname"]: a["status"] for a in alerts}
    assert states["CdiIncidentsOverdue"]["state"] == "suppressed"
    assert states["CdiIncidentsOverdue"]["inhibitedBy"]
    assert states["CdiDeadLetters"]["state"] == "active"  # not computed from the monitor's data
    assert states["CdiMonitorStale"]["state"] == "active"


def test_the_example_webhook_receiver_gets_the_notification(tmp_path: Path) -> None:
    """The real Alertmanager, with the deployed routes, notifies the example receiver."""
    hook_log = tmp_path / "receiver.log"
    with webhook_receiver(hook_log) as hook_port:
        config = tmp_path / "alertmanager.yml"
        config.write_text(yaml.safe_dump(local_alertmanager_config(hook_port)))
        with alertmanager(config, tmp_path) as port:
            Alertmanager(port).post([overdue("charnwood", "theft")])
            text = eventually(hook_log.read_text, lambda t: "CdiIncidentsOverdue" in t, 30)
    assert "/crime-bureau/ticket firing CdiIncidentsOverdue" in text
