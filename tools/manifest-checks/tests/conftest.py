"""Shared helpers: a baseline object that passes every rule, and tool lookups."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MC_DIR = HERE.parent
REPO_ROOT = MC_DIR.parent.parent
FIXTURES = HERE / "fixtures"

ID = "demo-app"
NS = "demo"
ENTITY_REF = "component:default/web"  # the catalog Component (named web) these manifests deploy


def labels(**extra: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "web", "backstage.io/kubernetes-id": ID, **extra}


def container(name: str = "web", image: str = "ghcr.io/golden-path/web:1.2.3") -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_spec() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container()],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


def deployment(replicas: int = 1) -> dict[str, Any]:
    """A Deployment that passes the schema and every policy rule (alone in a run: with 2+
    replicas it also needs the pdb() below)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "labels": labels(),
                     "annotations": {"rollouts.backstage.io/entity-ref": ENTITY_REF}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {"metadata": {"labels": labels()}, "spec": pod_spec()},
        },
    }


def pdb(**spec: Any) -> dict[str, Any]:
    """A PodDisruptionBudget for deployment()'s pods (maxUnavailable 1 unless given)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": NS, "labels": labels()},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, **(spec or {"maxUnavailable": 1})},
    }


def hpa(min_replicas: int | None, name: str = "web") -> dict[str, Any]:
    """A HorizontalPodAutoscaler that scales deployment() (minReplicas omitted when None: 1)."""
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                            "maxReplicas": 6}
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": NS, "labels": labels()}, "spec": spec}


def cronjob() -> dict[str, Any]:
    spec = pod_spec()
    spec["restartPolicy"] = "OnFailure"
    for c in spec["containers"]:
        del c["readinessProbe"], c["livenessProbe"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": NS, "labels": labels()},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"metadata": {"labels": labels()}, "spec": spec}}},
        },
    }


def service(svc_type: str = "ClusterIP", name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS, "labels": labels(),
                     "annotations": {"rollouts.backstage.io/entity-ref": ENTITY_REF}},
        "spec": {"type": svc_type, "selector": {"app.kubernetes.io/name": "web"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def clone(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)


def require_tool(path: str | None, name: str) -> str:
    """Return the tool path; fail under run-tests.sh (tools are required there), else skip."""
    if path:
        return path
    message = f"{name} not available (run tools/manifest-checks/run-tests.sh, which builds/installs it)"
    if os.environ.get("MANIFEST_CHECKS_REQUIRE_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError("unreachable")
