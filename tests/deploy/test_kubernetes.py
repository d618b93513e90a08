"""deploy/kubernetes: valid manifests (kubernetes-validate), wired to what the worker serves.

That the worker really serves the probe paths is shown against a running
worker in tests/integration/test_observability.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from monitor.settings import Settings
from tests.support.tools import DEPLOY

pytestmark = pytest.mark.deploy

K8S = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"


def documents() -> list[tuple[Path, dict[str, Any]]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = []
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                found.append((K8S / name, doc))
    return found


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if doc["kind"] == kind]


def worker_container() -> dict[str, Any]:
    (deployment,) = of_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def settings_data() -> dict[str, str]:
    (config,) = of_kind("ConfigMap")
    return config["data"]


def test_every_file_is_listed_in_the_kustomization() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"} == listed


@pytest.mark.parametrize("path_and_doc", documents(), ids=lambda d: f"{d[0].name}:{d[1]['kind']}")
def test_each_manifest_is_valid_for_kubernetes(path_and_doc: tuple[Path, dict[str, Any]]) -> None:
    _, doc = path_and_doc
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_probes_use_the_workers_pages_on_its_port() -> None:
    container = worker_container()
    (port,) = container["ports"]
    assert str(port["containerPort"]) == settings_data()["CDI_WEB_PORT"]
    probes = {
        kind: (container[kind]["httpGet"]["path"], container[kind]["httpGet"]["port"])
        for kind in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    assert probes == {
        "livenessProbe": ("/health", port["name"]),
        "readinessProbe": ("/ready", port["name"]),
        "startupProbe": ("/health", port["name"]),
    }


def test_workers_never_outnumber_the_partitions() -> None:
    (deployment,) = of_kind("Deployment")
    assert deployment["spec"]["replicas"] <= int(settings_data()["CDI_TOPIC_PARTITIONS"])


def test_the_service_and_scrape_annotations_point_at_the_metrics_port() -> None:
    (deployment,) = of_kind("Deployment")
    (service,) = of_kind("Service")
    template = deployment["spec"]["template"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert set(service["spec"]["selector"].items()) <= set(template["metadata"]["labels"].items())
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == worker_container()["ports"][0]["name"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == settings_data()["CDI_WEB_PORT"]
    assert annotations["prometheus.io/path"] == "/metrics"


def test_settings_are_real_and_the_database_url_comes_from_the_secret() -> None:
    for variable in settings_data():
        assert variable.removeprefix("CDI_").lower() in Settings.model_fields, variable
    assert "CDI_DATABASE_URL" not in settings_data()
    (secret,) = of_kind("Secret")
    assert set(secret["stringData"]) == {"CDI_DATABASE_URL"}
    (job,) = of_kind("Job")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"] and worker_container()["args"] == ["worker"]
    for container in (migrate, worker_container()):
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {secret["metadata"]["name"], of_kind("ConfigMap")[0]["metadata"]["name"]}


def test_only_prometheus_may_reach_the_workers_port() -> None:
    """The kubelet's probes come from the pod's node, which Kubernetes always lets in."""
    (deployment,) = of_kind("Deployment")
    (policy,) = of_kind("NetworkPolicy")
    spec = policy["spec"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert set(spec["podSelector"]["matchLabels"].items()) <= set(pod_labels.items())
    assert spec["policyTypes"] == ["Ingress"]  # isolated for ingress: all else is refused
    (rule,) = spec["ingress"]
    (source,) = rule["from"]
    assert source["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert "kubernetes.io/metadata.name" in source["namespaceSelector"]["matchLabels"]
    assert "ipBlock" not in source
    (port,) = rule["ports"]
    (container_port,) = worker_container()["ports"]
    assert port["port"] in (container_port["name"], container_port["containerPort"])
    assert port["protocol"] == "TCP"

