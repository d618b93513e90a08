"""The operations view of a running worker: its metrics, and a real Prometheus alerting on them.

One worker is fed the simulator's last 30 hours of a force, plus an incident
reported 30 hours ago in a division of its own and never recorded, and one
malformed event. A real Prometheus (Debian's binary, on loopback, scraping
every second) loads the real rule files from deploy/prometheus/rules and must
fire the overdue alert for that division, with the count, and the
dead-letter alert; every rule must evaluate without error. Prometheus sends
its alerts to a real Alertmanager with the deployed routes, which notifies the
example webhook receiver. The names every rule and dashboard panel reads must
be exported by this worker.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.adapters.kafka.embedded_broker import free_port
from monitor.adapters.sql.migrate import upgrade
from monitor.devtools.simulate import ForceProfile, Simulation
from tests.support import events as ev
from tests.support.alerting import (
    alertmanager,
    local_alertmanager_config,
    webhook_receiver,
)
from tests.support.alerting import running as run_process
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.promql import metric_names, variable_query_names
from tests.support.tools import DEPLOY, ROOT, require_tool
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)
DIVISION = "obs_test_division"  # the simulator never uses it: only our incident is there
RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.rules.yml"))
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.base}/api/v1/{path}{query}", timeout=5) as r:  # noqa: S310
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def alerts(self) -> list[dict[str, Any]]:
        return self.api("alerts")["alerts"]

    def firing(self, name: str) -> list[dict[str, Any]]:
        return [
            a for a in self.alerts() if a["labels"]["alertname"] == name and a["state"] == "firing"
        ]


@dataclass
class Stack:
    deployment: Deployment
    worker: WorkerProcess
    prometheus: Prometheus
    prometheus_log: Path
    receiver_log: Path


def prometheus_config(worker_port: int, alertmanager_port: int) -> dict[str, Any]:
    """The deployed prometheus.yml: a test's timing, its worker and Alertmanager, the real rules."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(path) for path in RULES]
    (alertmanagers,) = config["alerting"]["alertmanagers"]
    alertmanagers["static_configs"] = [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "cdi-monitor"  # the name the rules select on
    job["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    return config


def until(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def inputs(d: Deployment) -> list[tuple[str, str, bytes | dict]]:
    names = {"incidents": d.incidents, "crime-records": d.crime_records}
    simulated = [
        (names[e.topic], e.key, e.to_bytes())
        for e in Simulation(ForceProfile(), seed=3).events(NOW - 30 * H, NOW)
    ]
    ours: list[tuple[str, str, bytes | dict]] = [
        (d.incidents, "OBS-1", ev.reported("OBS-1", NOW - 30 * H, division=DIVISION)),
        (d.incidents, "OBS-2", ev.reported("OBS-2", NOW - 2 * H, division=DIVISION)),
        (d.incidents, "OBS-BAD", b"not json at all"),
    ]
    return simulated + ours


@pytest.fixture(scope="module")
def stack(
    broker: str, topics: Topics, log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    binary = require_tool("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    with ExitStack() as running:
        url = running.enter_context(fresh_postgres_database())
        upgrade(url)
        deployment = Deployment(
            bootstrap=broker,
            database_url=url,
            partitions=2,
            extra={"CDI_AUDIT_METRICS_REFRESH": "1s"},
        )
        deployment.create_topics()
        worker = WorkerProcess(deployment, log_dir).start()
        running.callback(worker.stop)
        # Alerts travel on: Prometheus -> Alertmanager (deployed routes) -> the example receiver.
        receiver_log = workdir / "receiver.log"
        receiver_port = running.enter_context(webhook_receiver(receiver_log))
        am_config = workdir / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump(local_alertmanager_config(receiver_port)))
        am_port = running.enter_context(alertmanager(am_config, workdir))
        config = prometheus_config(worker.port, am_port)
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log_path = workdir / "prometheus.log"
        command = [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        try:
            running.enter_context(run_process(command, log_path, port))
            prometheus = Prometheus(port)
            # Let Prometheus see the counters at 0 before any event, as in production.
            until(
                "the first scrape",
                lambda: any(
                    t["health"] == "up" for t in prometheus.api("targets")["activeTargets"]
                ),
            )
            for topic, key, value in inputs(deployment):
                topics.send(topic, key, value)
            topics.flush()
            yield Stack(deployment, worker, prometheus, log_path, receiver_log)
        except BaseException:
            print(worker.log())
            print(log_path.read_text(errors="replace")[-5000:])
            raise


def test_the_worker_reports_the_overdue_incident_of_the_division(stack: Stack) -> None:
    overdue = until(
        "the overdue gauge",
        lambda: stack.worker.metric("cdi_incidents_overdue", division=DIVISION),
    )
    assert overdue == 1  # OBS-2 is awaiting, not overdue
    assert stack.worker.metric("cdi_incidents_awaiting_recording", division=DIVISION) == 2
    age = stack.worker.metric(
        "cdi_oldest_unrecorded_incident_age_seconds", force="leicestershire", division=DIVISION
    )
    # OBS-1 was reported at NOW - 30 h; NOW is fixed when the module is imported,
    # which in a full run can be many minutes before this test.
    expected = (datetime.now(UTC) - (NOW - 30 * H)).total_seconds()
    assert expected - 120 < age < expected + 5
    assert stack.worker.metric("cdi_assigned_partitions") == 2


def test_prometheus_fires_the_overdue_alert_for_the_division_with_its_count(stack: Stack) -> None:
    def ours() -> list[dict[str, Any]]:
        return [
            a
            for a in stack.prometheus.firing("CdiIncidentsOverdue")
            if a["labels"].get("division") == DIVISION
        ]

    (alert,) = until("the overdue alert", ours)
    assert alert["labels"] == {
        "alertname": "CdiIncidentsOverdue",
        "force": "leicestershire",
        "division": DIVISION,
        "severity": "warning",
        "team": "crime-bureau",
        "depends_on": "monitor",
    }
    assert alert["annotations"]["summary"] == (
        f"1 crime-related incidents overdue for recording in {DIVISION} (leicestershire)"
    )
    assert alert["annotations"]["runbook_url"].endswith("#runbook-cdiincidentsoverdue")


def test_the_overdue_alert_reaches_the_crime_bureau_receiver_through_alertmanager(
    stack: Stack,
) -> None:
    expected = (
        "/crime-bureau/ticket firing CdiIncidentsOverdue "
        f"1 crime-related incidents overdue for recording in {DIVISION} (leicestershire)"
    )
    until(
        "the notification at the example receiver",
        lambda: expected in stack.receiver_log.read_text(),
        timeout=120,
    )


def test_prometheus_fires_the_dead_letter_alert_for_the_malformed_event(stack: Stack) -> None:
    alerts = until(
        "the dead-letter alert",
        lambda: [
            a
            for a in stack.prometheus.firing("CdiDeadLetters")
            if a["labels"]["topic"] == stack.deployment.incidents
        ],
    )
    assert [a["labels"]["reason"] for a in alerts] == ["not_json"]


def test_every_rule_evaluates_without_error_and_the_monitor_is_not_stale(stack: Stack) -> None:
    def evaluated() -> list[dict[str, Any]]:
        rules = [r for g in stack.prometheus.api("rules")["groups"] for r in g["rules"]]
        return rules if all(r.get("lastEvaluation", "").startswith("2") for r in rules) else []

    rules = until("every rule evaluated", evaluated)
    assert len(rules) == sum(
        len(g["rules"]) for path in RULES for g in yaml.safe_load(path.read_text())["groups"]
    )
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
    assert stack.prometheus.firing("CdiMonitorStale") == []
    assert stack.prometheus.firing("CdiWorkerDown") == []


def exported_names(worker: WorkerProcess) -> tuple[set[str], set[str]]:
    """Sample names (with _total, _bucket, _sum, _count) and family names of a live scrape."""
    text = worker.get("/metrics")[1].decode()
    samples, families = set(), set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        samples.update(sample.name for sample in family.samples)
    return samples, families


def expressions() -> list[tuple[str, str]]:
    """(where, expression) for every rule and every dashboard panel target."""
    found = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                found.append(
                    (f"{path.name}:{rule.get('alert') or rule.get('record')}", rule["expr"])
                )
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.name}:{panel['title']}", target["expr"]))
    return found


def audit_a_few(database_url: str, answers: int = 8) -> None:
    """Draw an audit sample of the simulated hours and answer a few, as an auditor would."""
    from monitor.adapters.sql.audit import SqlAudit
    from monitor.adapters.sql.ledger import make_engine
    from monitor.application.audit import Sizing, draw_sample, record_answer
    from monitor.domain.audit_answer import Answer, ShouldRecord
    from monitor.domain.period import Period

    engine = make_engine(database_url)
    try:
        audit = SqlAudit(engine)
        period = Period("observability", NOW - 31 * H, NOW)
        sample, _ = draw_sample(
            audit, audit, period=period, seed=1, sizing=Sizing(size=3), now=NOW, actor="test"
        )
        for item in audit.audited(sample.sample_id)[:answers]:
            answer = (
                Answer(ShouldRecord.YES, "violence_against_the_person", True)
                if item.recorded
                else Answer(ShouldRecord.NO)
            )
            record_answer(
                audit,
                sample_id=sample.sample_id,
                incident_id=item.incident_id,
                answer=answer,
                auditor="test",
                is_admin=False,
                now=NOW,
            )
    finally:
        engine.dispose()


def test_every_rule_and_panel_reads_only_metrics_the_worker_exports(stack: Stack) -> None:
    until(
        "the counters and the backlog gauges",
        lambda: (
            stack.worker.metric("cdi_recordings_total")
            and stack.worker.metric("cdi_alerts_raised_total", kind="overdue")
            and stack.worker.metric("cdi_incidents_overdue", division=DIVISION)
        ),
    )
    # The audit gauges come from the database once an audit has found a crime.
    audit_a_few(stack.deployment.database_url)
    until(
        "the audit gauges",
        lambda: stack.worker.metric("cdi_audit_recording_rate_upper", stratum="all"),
    )
    exported, _ = exported_names(stack.worker)
    recorded = {
        rule["record"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    known = exported | recorded | {"up"}  # ``up`` is Prometheus's own, per target
    assert DASHBOARDS, "no dashboards found"
    found = expressions()
    missing = {
        (where, name) for where, expr in found for name in metric_names(expr) if name not in known
    }
    assert missing == set()
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable.get("type") == "query":
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                assert variable_query_names(text) <= known, variable["name"]
    read = {name for _, expr in found for name in metric_names(expr)}
    assert {"cdi_recording_delay_seconds_bucket", "cdi_recordings_total"} <= read


def test_the_docs_document_every_metric_the_worker_exports(stack: Stack) -> None:
    until("the backlog gauges", lambda: stack.worker.metric("cdi_incidents_overdue"))
    _, families = exported_names(stack.worker)
    # The metrics are documented in docs/ (the tables in running.md and operations.md).
    docs = "\n".join(p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    # prometheus-client exports a ``_created`` timestamp beside each counter and histogram.
    ours = {n for n in families if n.startswith("cdi_") and not n.endswith("_created")}
    assert ours, families
    # Counter families are named without _total; the docs name them as scraped.
    undocumented = {
        name for name in ours if f"`{name}`" not in docs and f"`{name}_total`" not in docs
    }
    assert undocumented == set()


def test_the_worker_serves_the_paths_the_kubernetes_probes_and_compose_healthchecks_use(
    stack: Stack,
) -> None:
    docs = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "worker.yaml").read_text()) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    paths = {
        container[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    healthcheck = " ".join(compose["services"]["worker-1"]["healthcheck"]["test"])
    paths |= {p for p in ("/health", "/ready") if p in healthcheck}
    assert paths == {"/health", "/ready"}
    for path in sorted(paths):
        status, body = stack.worker.get(path)
        assert status == 200, (path, body)
    assert stack.worker.get("/no-such-page")[0] == 404  # a 200 for anything would prove nothing
