"""The k8s/ manifests follow the golden-path rules and fit this service's code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.manifest_policy import (
    disruption_budget_violations,
    load_documents,
    repo_root,
    service_containers,
    violations,
)

SERVICE_DIR = Path(__file__).resolve().parents[1]
ROOT = repo_root(SERVICE_DIR)
DOCS = load_documents(ROOT / "k8s")
# The first entity of catalog-info.yaml (a Component, or the System of several) names the
# id every object of k8s/ is labelled with.
KUBERNETES_ID = next(yaml.safe_load_all((ROOT / "catalog-info.yaml").read_text()))["metadata"]["annotations"][
    "backstage.io/kubernetes-id"
]


def test_manifests_follow_the_rules() -> None:
    assert DOCS, "no manifests found in k8s/"
    assert violations(DOCS, KUBERNETES_ID) == []


def test_kustomization_lists_existing_files_only() -> None:
    kustomization = yaml.safe_load((ROOT / "k8s" / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    assert "namespace.yaml" in resources
    for resource in resources:
        assert (ROOT / "k8s" / resource).is_file(), f"kustomization.yaml lists missing {resource}"
    assert kustomization["namespace"] == next(d for _, d in DOCS if d["kind"] == "Namespace")["metadata"]["name"]


def test_probes_and_port_match_this_service() -> None:
    settings = Settings()
    containers = service_containers(DOCS, settings.app_name)
    assert containers, f"no container in k8s/ runs the image of {settings.app_name}"
    with TestClient(create_app(settings)) as client:
        served = {path: client.get(path).status_code for path in ("/health", "/ready", "/startup")}
    for container in containers:
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == settings.port
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container:
                http = container[probe]["httpGet"]
                assert served.get(http["path"], 404) not in (404, 405), f"{probe} path {http['path']} is not served"
                assert http["port"] in ("http", settings.port)


def _first_workload() -> tuple[str, dict[str, Any]]:
    return next((s, d) for s, d in DOCS if d["kind"] == "Deployment")


def _mutate(path: list[Any], value: Any) -> list[tuple[str, dict[str, Any]]]:
    source, doc = _first_workload()
    bad = copy.deepcopy(doc)
    target = bad
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return [(source, bad)]


_DELETE = object()
_C0 = ["spec", "template", "spec", "containers", 0]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ([*_C0, "securityContext", "allowPrivilegeEscalation"], True, "allowPrivilegeEscalation must be false"),
        ([*_C0, "securityContext", "readOnlyRootFilesystem"], False, "readOnlyRootFilesystem must be true"),
        ([*_C0, "securityContext", "capabilities"], {"drop": ["NET_RAW"]}, "capabilities must drop ALL"),
        ([*_C0, "resources"], {"requests": {"cpu": "10m"}}, "missing resources.limits.memory"),
        ([*_C0, "image"], "ghcr.io/acme/app:latest", "image must be pinned"),
        ([*_C0, "image"], "ghcr.io/acme/app", "image must be pinned"),
        ([*_C0, "readinessProbe"], _DELETE, "missing readinessProbe"),
        ([*_C0, "volumeMounts"], [], "needs an emptyDir at /tmp"),
        (["spec", "template", "spec", "securityContext", "runAsNonRoot"], False, "runAsNonRoot must be true"),
        (["spec", "template", "spec", "securityContext", "seccompProfile"], {"type": "Unconfined"}, "seccompProfile"),
        (["spec", "template", "spec", "automountServiceAccountToken"], True, "automountServiceAccountToken"),
        (["metadata", "labels"], {}, "missing label backstage.io/kubernetes-id"),
        (["spec", "selector", "matchLabels"], {"app.kubernetes.io/name": "other"}, "selector does not match"),
    ],
)
def test_each_rule_rejects_a_bad_manifest(path: list[Any], value: Any, expected: str) -> None:
    found = violations(_mutate(path, value), KUBERNETES_ID)
    assert any(expected in v for v in found), found


def _budgeted_workload() -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """A Deployment of k8s/ and the PodDisruptionBudget that selects its pods (copies)."""
    for source, doc in DOCS:
        if doc["kind"] != "Deployment":
            continue
        labels = doc["spec"]["template"]["metadata"]["labels"]
        for budget_source, budget in DOCS:
            match = budget.get("spec", {}).get("selector", {}).get("matchLabels", {})
            if budget["kind"] == "PodDisruptionBudget" and match.items() <= labels.items():
                return (source, copy.deepcopy(doc)), (budget_source, copy.deepcopy(budget))
    raise AssertionError("no PodDisruptionBudget in k8s/ selects a Deployment's pods")


def test_a_deployment_with_replicas_and_no_budget_is_rejected() -> None:
    workload, budget = _budgeted_workload()
    workload[1]["spec"]["replicas"] = 2
    assert disruption_budget_violations([workload, budget]) == []
    found = violations([workload], KUBERNETES_ID)
    assert any("no PodDisruptionBudget selects its pods" in v for v in found), found


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"selector": {"matchLabels": {"app.kubernetes.io/name": "nothing-has-this-label"}}}, "selects no pod template"),
        ({"maxUnavailable": 0}, "never allows an eviction"),
    ],
)
def test_a_budget_that_protects_nothing_or_blocks_drains_is_rejected(spec: dict[str, Any], expected: str) -> None:
    workload, (budget_source, budget) = _budgeted_workload()
    budget["spec"].update(spec)
    found = violations([workload, (budget_source, budget)], KUBERNETES_ID)
    assert any(expected in v for v in found), found


def test_a_service_that_selects_no_pod_is_rejected() -> None:
    service = next(((s, d) for s, d in DOCS if d["kind"] == "Service"), None)
    assert service is not None
    source, doc = service
    bad = copy.deepcopy(doc)
    bad["spec"]["selector"] = {"app.kubernetes.io/name": "nothing-has-this-label"}
    workloads = [(s, d) for s, d in DOCS if d["kind"] == "Deployment"]
    assert any("selects no pod template" in v for v in violations([*workloads, (source, bad)], KUBERNETES_ID))
