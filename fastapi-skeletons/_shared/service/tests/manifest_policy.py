"""Checks the repository's Kubernetes manifests (k8s/) against the golden-path rules.

Pure functions over parsed YAML documents, so the tests can prove each rule fails on a
bad manifest as well as passes on the real ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "backstage.io/kubernetes-id",
)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def repo_root(start: Path) -> Path:
    """The folder holding catalog-info.yaml and k8s/ (the service may sit in a sub-folder)."""
    for folder in (start, *start.parents):
        if (folder / "catalog-info.yaml").is_file() and (folder / "k8s").is_dir():
            return folder
    raise FileNotFoundError(f"no catalog-info.yaml with a k8s/ folder above {start}")


def load_documents(k8s_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(k8s_dir.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc.get("kind") in WORKLOAD_KINDS:
        return doc.get("spec", {}).get("template", {}).get("spec", {})
    if doc.get("kind") == "Pod":
        return doc.get("spec", {})
    return None


def _containers(pod: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield from pod.get("initContainers", []) or []
    yield from pod.get("containers", []) or []


def _image_ok(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


def violations(docs: list[tuple[str, dict[str, Any]]], kubernetes_id: str) -> list[str]:
    found: list[str] = []
    pod_label_sets: list[dict[str, str]] = []
    for source, doc in docs:
        kind, meta = doc.get("kind", "?"), doc.get("metadata", {}) or {}
        where = f"{source}: {kind}/{meta.get('name', '?')}"
        labels = meta.get("labels", {}) or {}
        for label in REQUIRED_LABELS:
            if not labels.get(label):
                found.append(f"{where}: missing label {label}")
        if labels.get("backstage.io/kubernetes-id") not in (None, kubernetes_id):
            found.append(f"{where}: backstage.io/kubernetes-id is not {kubernetes_id}")
        pod = _pod_spec(doc)
        if pod is None:
            continue
        template_labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}
        pod_label_sets.append(template_labels)
        if template_labels.get("backstage.io/kubernetes-id") != kubernetes_id:
            found.append(f"{where}: pod template lacks backstage.io/kubernetes-id={kubernetes_id}")
        selector = doc.get("spec", {}).get("selector", {}).get("matchLabels", {}) or {}
        if kind != "Pod" and (not selector or any(template_labels.get(k) != v for k, v in selector.items())):
            found.append(f"{where}: selector does not match the pod template labels")
        psc = pod.get("securityContext", {}) or {}
        if psc.get("runAsNonRoot") is not True:
            found.append(f"{where}: pod securityContext.runAsNonRoot must be true")
        if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            found.append(f"{where}: pod seccompProfile must be RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            found.append(f"{where}: automountServiceAccountToken must be false (no API access needed)")
        volumes = {v.get("name"): v for v in pod.get("volumes", []) or []}
        for container in _containers(pod):
            cwhere = f"{where} container {container.get('name')}"
            sc = container.get("securityContext", {}) or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                found.append(f"{cwhere}: allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                found.append(f"{cwhere}: readOnlyRootFilesystem must be true")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                found.append(f"{cwhere}: capabilities must drop ALL")
            if (sc.get("capabilities") or {}).get("add"):
                found.append(f"{cwhere}: must not add capabilities")
            if sc.get("privileged"):
                found.append(f"{cwhere}: must not be privileged")
            resources = container.get("resources", {}) or {}
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(section) or {}).get(resource):
                        found.append(f"{cwhere}: missing resources.{section}.{resource}")
            if not _image_ok(str(container.get("image", ""))):
                found.append(f"{cwhere}: image must be pinned (a tag other than latest, or a digest)")
            for probe in ("livenessProbe", "readinessProbe"):
                if container in (pod.get("containers") or []) and not container.get(probe):
                    found.append(f"{cwhere}: missing {probe}")
            mounts = {m.get("mountPath"): m.get("name") for m in container.get("volumeMounts", []) or []}
            if "/tmp" not in mounts or "emptyDir" not in volumes.get(mounts["/tmp"], {}):
                found.append(f"{cwhere}: needs an emptyDir at /tmp (the root filesystem is read-only)")
    for source, doc in docs:
        if doc.get("kind") == "Service":
            selector = doc.get("spec", {}).get("selector", {}) or {}
            if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in pod_label_sets):
                found.append(f"{source}: Service/{doc['metadata'].get('name')} selects no pod template")
    found += disruption_budget_violations(docs)
    return found


def _budget_selects(budget: dict[str, Any], labels: dict[str, str]) -> bool:
    match = ((budget.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def disruption_budget_violations(docs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """A node drain evicts pods through the Eviction API, which honours PodDisruptionBudgets:
    every workload with 2+ replicas needs one that selects its pods, and a budget must be able
    to let a drain through (maxUnavailable 0 never does)."""
    found: list[str] = []
    budgets = [(s, d) for s, d in docs if d.get("kind") == "PodDisruptionBudget"]
    templates = []
    for source, doc in docs:
        if doc.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}
        templates.append(labels)
        replicas = doc.get("spec", {}).get("replicas", 1)
        if replicas >= 2 and not any(_budget_selects(b, labels) for _, b in budgets):
            found.append(f"{source}: {doc['kind']}/{doc['metadata'].get('name')} runs {replicas} replicas but no "
                         "PodDisruptionBudget selects its pods (a node drain could evict them all at once)")
    for source, budget in budgets:
        where = f"{source}: PodDisruptionBudget/{budget['metadata'].get('name')}"
        if not any(_budget_selects(budget, labels) for labels in templates):
            found.append(f"{where} selects no pod template")
        if str((budget.get("spec") or {}).get("maxUnavailable")) in ("0", "0%"):
            found.append(f"{where}: maxUnavailable 0 never allows an eviction (node drains would hang)")
    return found


def service_containers(docs: list[tuple[str, dict[str, Any]]], image_name: str) -> list[dict[str, Any]]:
    """Containers that run this service's image (<registry>/<image_name>:<tag>)."""
    result = []
    for _, doc in docs:
        pod = _pod_spec(doc)
        for container in (pod or {}).get("containers", []) or []:
            repository = str(container.get("image", "")).split("@")[0].rsplit(":", 1)[0]
            if repository.rsplit("/", 1)[-1] == image_name:
                result.append(container)
    return result
