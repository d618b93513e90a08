"""The Grafana provisioning and dashboards: current with their generator, and well formed.

That every panel's expression reads only exported metrics is checked against a
running worker in tests/integration/test_observability.py.
"""

from __future__ import annotations

import json
import runpy

import pytest
import yaml

from tests.support.promql import metric_names
from tests.support.tools import DEPLOY

pytestmark = pytest.mark.deploy

GRAFANA = DEPLOY / "grafana"
BUILDER = runpy.run_path(str(GRAFANA / "build_dashboards.py"))


def test_the_dashboard_files_are_what_the_generator_writes() -> None:
    rendered = BUILDER["render"]()
    on_disk = {path.name: path.read_text() for path in (GRAFANA / "dashboards").glob("*.json")}
    assert on_disk == rendered, "stale: run python deploy/grafana/build_dashboards.py"


def test_the_dashboards_use_the_provisioned_datasource() -> None:
    (source,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    for path in (GRAFANA / "dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}
                assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])


def test_the_provider_loads_the_folder_the_compose_file_mounts() -> None:
    (provider,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "cdi-monitor.yml").read_text()
    )["providers"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_panels_have_unique_ids_fit_the_grid_and_parse_as_promql() -> None:
    for path in (GRAFANA / "dashboards").glob("*.json"):
        panels = json.loads(path.read_text())["panels"]
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids))
        for panel in panels:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
            for target in panel.get("targets", []):
                assert metric_names(target["expr"]), (panel["title"], target["expr"])


def test_the_dashboard_shows_what_operators_need() -> None:
    """The issue's list: compliance by division and category, delay, backlog, age, flow."""
    (dashboard,) = [
        json.loads(p.read_text()) for p in (GRAFANA / "dashboards").glob("cdi-recording.json")
    ]
    reads: dict[str, set[str]] = {}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            reads.setdefault(panel["title"], set()).update(metric_names(target["expr"]))
    wanted = {
        "cdi_recording_delay_seconds_bucket",
        "cdi_incidents_awaiting_recording",
        "cdi_incidents_overdue",
        "cdi_oldest_unrecorded_incident_age_seconds",
        "cdi_events_consumed_total",
        "cdi_consumer_lag_messages",
        "cdi_events_rejected_total",
    }
    assert wanted <= set().union(*reads.values())
    titles = " ".join(reads)
    assert "by division" in titles and "by category" in titles
