"""topology.yaml is the one description of who calls whom: the NetworkPolicies, the
diagram, the Deployments' keys and URLs, and the catalog's dependsOn must all agree."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests import repo_scripts
from tests.manifest_policy import load_documents
from tests.repo_scripts import ROOT
topology = repo_scripts.load("topology")

VERIFIERS_MOUNT = "/var/run/secrets/callers/"


def _deployment_edges(docs: list[tuple[str, dict[str, Any]]], app: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(caller, callee) pairs as the Deployments see them: a callee mounts the caller's
    key verifiers; a caller has a <CALLEE>_URL pointing at the callee's Service."""
    accepted, called = set(), set()
    for _, doc in docs:
        if doc.get("kind") != "Deployment":
            continue
        service = doc["metadata"]["name"].removeprefix(f"{app}-")
        container = doc["spec"]["template"]["spec"]["containers"][0]
        for mount in container.get("volumeMounts", []):
            if mount["mountPath"].startswith(VERIFIERS_MOUNT):
                accepted.add((mount["mountPath"].removeprefix(VERIFIERS_MOUNT), service))
        for env in container.get("env", []):
            if env["name"].endswith("_URL") and "value" in env:
                callee = env["name"].removesuffix("_URL").lower()
                assert env["value"].startswith(f"http://{app}-{callee}."), env
                called.add((service, callee))
    return accepted, called


def _catalog_edges(catalog: list[dict[str, Any]], app: str) -> set[tuple[str, str]]:
    return {
        (entity["metadata"]["name"].removeprefix(f"{app}-"), ref.removeprefix(f"component:{app}-"))
        for entity in catalog
        if entity["kind"] == "Component"
        for ref in entity["spec"].get("dependsOn", [])
    }


def topology_problems(
    topo: dict[str, Any],
    policies: list[dict[str, Any]],
    markdown: str,
    docs: list[tuple[str, dict[str, Any]]],
    catalog: list[dict[str, Any]],
) -> list[str]:
    app = topo["app"]
    edges = {(e["from"], e["to"]) for e in topo["edges"]}
    problems = []
    if policies != topology.network_policies(topo):
        problems.append("k8s/network-policy.yaml differs from topology.yaml")
    if topology.diagram_in(markdown) != topology.diagram(topo):
        problems.append("the diagram in docs/topology.md differs from topology.yaml")
    accepted, called = _deployment_edges(docs, app)
    if accepted != edges:
        problems.append(f"the Deployments mount the key verifiers of {sorted(accepted)}, topology.yaml has {sorted(edges)}")
    if called != edges:
        problems.append(f"the Deployments call {sorted(called)}, topology.yaml has {sorted(edges)}")
    if _catalog_edges(catalog, app) != edges:
        problems.append(f"catalog-info.yaml's dependsOn is {sorted(_catalog_edges(catalog, app))}")
    return problems


def _real() -> tuple[Any, ...]:
    return (
        topology.load(ROOT / "topology.yaml"),
        [d for d in yaml.safe_load_all((ROOT / "k8s" / "network-policy.yaml").read_text()) if d],
        (ROOT / "docs" / "topology.md").read_text(),
        load_documents(ROOT / "k8s"),
        [d for d in yaml.safe_load_all((ROOT / "catalog-info.yaml").read_text()) if d],
    )


def test_policies_diagram_deployments_and_catalog_agree_with_topology() -> None:
    assert topology_problems(*_real()) == []


def test_the_script_check_agrees() -> None:
    assert topology.main(["--check"]) == 0


def _with_extra_edge(topo: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(topo)
    changed["edges"].append({"from": "inventory", "to": "payments", "calls": "GET /payments/{id}"})
    return changed


def test_an_edge_added_only_to_topology_yaml_is_caught_everywhere() -> None:
    topo, policies, markdown, docs, catalog = _real()
    problems = topology_problems(_with_extra_edge(topo), policies, markdown, docs, catalog)
    assert [p.split(" ")[0] for p in problems] == ["k8s/network-policy.yaml", "the", "the", "the", "catalog-info.yaml's"]


@pytest.mark.parametrize("policy", ["default-deny", "allow-dns", "orders-ingress", "orders-egress"])
def test_a_policy_removed_from_the_manifests_is_caught(policy: str) -> None:
    topo, policies, markdown, docs, catalog = _real()
    fewer = [p for p in policies if p["metadata"]["name"] != f"{topo['app']}-{policy}"]
    assert len(fewer) == len(policies) - 1
    assert topology_problems(topo, fewer, markdown, docs, catalog) == ["k8s/network-policy.yaml differs from topology.yaml"]


def test_the_policies_deny_by_default_and_allow_dns_only_to_the_cluster_dns() -> None:
    topo, policies, *_ = _real()
    by_name = {p["metadata"]["name"].removeprefix(f"{topo['app']}-"): p["spec"] for p in policies}
    assert by_name["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    [dns_rule] = by_name["allow-dns"]["egress"]
    assert dns_rule["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {p["port"] for p in dns_rule["ports"]} == {53}
    # inventory accepts orders only, payments the gateway and orders.
    callers = lambda name: [  # noqa: E731
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in by_name[f"{name}-ingress"]["ingress"][0]["from"]
    ]
    assert callers("inventory") == [f"{topo['app']}-orders"]
    assert callers("payments") == [f"{topo['app']}-gateway", f"{topo['app']}-orders"]
    assert "inventory-egress" not in by_name and "payments-egress" not in by_name
