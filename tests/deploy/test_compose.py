"""deploy/compose.yaml: valid for Compose, and wired together (there is no Docker engine here).

``docker-compose config`` (Debian's docker-compose, which needs no engine to
validate) checks the file against the Compose schema; the rest reads the file
with PyYAML and checks that the parts point at each other: the workers at
Kafka, PostgreSQL and the migration, Prometheus at the workers' metrics port
and at Alertmanager, Grafana at Prometheus, every mounted file exists.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from monitor.settings import Settings
from tests.support.tools import DEPLOY, require_tool

pytestmark = pytest.mark.deploy

COMPOSE = DEPLOY / "compose.yaml"


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def workers() -> dict[str, Any]:
    return {name: s for name, s in services().items() if s.get("command") == ["worker"]}


GRAFANA = {"GF_ADMIN_PASSWORD": "a-long-grafana-password"}  # a test value only


def compose_config(variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` with only these of the file's variables set."""
    compose = require_tool("docker-compose")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GF_ADMIN_PASSWORD", "BIND_ADDRESS", "CDI_DB_PASSWORD"}
    }
    return subprocess.run(
        [compose, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        check=False,
        env={**env, **(variables or {})},
    )


def test_docker_compose_accepts_the_file() -> None:
    result = compose_config(GRAFANA)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafanas_admin_password_comes_from_the_environment_with_no_default() -> None:
    assert ":-admin}" not in COMPOSE.read_text()  # no ${GF_ADMIN_PASSWORD:-admin}
    refused = compose_config()
    assert refused.returncode != 0 and "GF_ADMIN_PASSWORD" in refused.stderr
    rendered = yaml.safe_load(compose_config(GRAFANA).stdout)
    grafana = rendered["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == GRAFANA["GF_ADMIN_PASSWORD"]


def published(rendered: dict[str, Any]) -> list[str]:
    return [str(p) for s in rendered["services"].values() for p in s.get("ports", [])]


def test_ports_are_published_on_loopback_unless_the_operator_says_otherwise() -> None:
    for name, service in services().items():
        for port in service.get("ports", []):
            assert re.fullmatch(r"\$\{BIND_ADDRESS:-127\.0\.0\.1\}:\d+:\d+", port), (name, port)
    ports = published(yaml.safe_load(compose_config(GRAFANA).stdout))
    assert len(ports) == 5 and all(p.startswith("127.0.0.1:") for p in ports), ports
    chosen = yaml.safe_load(compose_config({**GRAFANA, "BIND_ADDRESS": "10.1.2.3"}).stdout)
    assert all(p.startswith("10.1.2.3:") for p in published(chosen))


def test_the_stack_has_every_part() -> None:
    assert {
        "kafka",
        "postgres",
        "migrate",
        "prometheus",
        "alertmanager",
        "grafana",
        "alert-webhook",
    } <= set(services())
    assert len(workers()) == 2


def test_kafka_runs_in_kraft_mode_and_advertises_what_the_workers_connect_to() -> None:
    kafka = services()["kafka"]["environment"]
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in " ".join(kafka)
    advertised = {urlsplit(u).netloc for u in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    for worker in workers().values():
        assert worker["environment"]["CDI_KAFKA_BOOTSTRAP_SERVERS"] in advertised


def test_the_workers_and_the_migration_share_the_database_postgres_serves() -> None:
    postgres = services()["postgres"]["environment"]
    for name in [*workers(), "migrate"]:
        url = urlsplit(services()[name]["environment"]["CDI_DATABASE_URL"])
        assert url.hostname == "postgres" and url.path == f"/{postgres['POSTGRES_DB']}"
        assert url.username == postgres["POSTGRES_USER"]
        assert url.password == postgres["POSTGRES_PASSWORD"]
    assert services()["migrate"]["command"] == ["migrate"]


def test_workers_start_after_the_migration_and_a_healthy_broker_and_probe_ready() -> None:
    for worker in workers().values():
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
        port = worker["environment"]["CDI_WEB_PORT"]
        assert f"http://127.0.0.1:{port}/ready" in " ".join(worker["healthcheck"]["test"])


def test_every_cdi_variable_is_a_setting_the_worker_reads() -> None:
    for name, service in services().items():
        for variable in service.get("environment") or {}:
            if variable.startswith("CDI_"):
                field = variable.removeprefix("CDI_").lower()
                assert field in Settings.model_fields, (name, variable)


def test_prometheus_scrapes_every_worker_and_sends_to_alertmanager() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    (static,) = job["static_configs"]
    expected = {f"{name}:{w['environment']['CDI_WEB_PORT']}" for name, w in workers().items()}
    assert set(static["targets"]) == expected
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (am,) = config["alerting"]["alertmanagers"][0]["static_configs"]
    assert am["targets"] == ["alertmanager:9093"]
    mounts = services()["prometheus"]["volumes"]
    assert "./prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert all(rule.startswith("/etc/prometheus/rules/") for rule in config["rule_files"])


def test_alertmanager_notifies_the_example_receiver_the_stack_runs() -> None:
    config = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    port = services()["alert-webhook"]["environment"]["PORT"]
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            url = urlsplit(hook["url"])
            assert (url.hostname, str(url.port)) == ("alert-webhook", port)


def test_every_mounted_file_exists() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (name, source)
    build = services()["migrate"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
