"""The alert and recording rules in deploy/prometheus: valid, and unit-tested with promtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.tools import DEPLOY, require_tool

pytestmark = pytest.mark.deploy

RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.rules.yml"))
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.test.yml"))


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )


def rules() -> list[dict]:
    return [
        rule
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def test_promtool_accepts_every_rule_file() -> None:
    promtool = require_tool("promtool")
    assert RULES
    result = run(promtool, "check", "rules", *RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_prometheus_configuration_with_the_real_rules(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    # In the stack the rules are mounted at /etc/prometheus/rules; here, read them in place.
    config["rule_files"] = [str(path) for path in RULES]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    result = run(promtool, "check", "config", copy)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"SUCCESS: {len(RULES)} rule files found" in output, output


def test_promtool_unit_tests_pass() -> None:
    promtool = require_tool("promtool")
    assert RULE_TESTS
    result = run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS), result.stdout


def test_every_alert_has_a_unit_test_in_which_it_fires_and_one_in_which_it_does_not() -> None:
    fired, silent = set(), set()
    for path in RULE_TESTS:
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                (fired if case["exp_alerts"] else silent).add(case["alertname"])
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts - fired == set(), "alerts never shown firing"
    assert alerts - silent == set(), "alerts never shown staying silent"


def test_every_recording_rule_is_tested_directly_or_through_a_tested_expression() -> None:
    covered_text = "\n".join(
        case["expr"]
        for path in RULE_TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("promql_expr_test", [])
    )
    # Every alert is tested (above), so what its expression reads is covered.
    covered_text += "\n".join(rule["expr"] for rule in rules() if "alert" in rule)
    recorded = {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}
    covered: set[str] = set()
    while True:
        newly = {
            name
            for name in recorded
            if name not in covered and re.search(rf"{re.escape(name)}\b", covered_text)
        }
        if not newly:
            break
        covered |= newly
        covered_text += "\n".join(recorded[name] for name in newly)
    assert set(recorded) - covered == set(), "recording rules no test reaches"


def test_every_alert_says_who_it_is_for_how_bad_it_is_and_links_its_runbook() -> None:
    runbooks = (DEPLOY.parent / "docs" / "operations.md").read_text()
    for rule in rules():
        if "alert" not in rule:
            continue
        labels, annotations = rule["labels"], rule["annotations"]
        assert labels["team"] in {"crime-bureau", "operations"}, rule["alert"]
        assert labels["severity"] in {"page", "ticket", "warning"}, rule["alert"]
        anchor = f"runbook-{rule['alert'].lower()}"
        assert annotations["runbook_url"].endswith(f"docs/operations.md#{anchor}"), rule["alert"]
        assert f'<a name="{anchor}"></a>' in runbooks, (
            f"docs/operations.md has no runbook for {rule['alert']}"
        )
