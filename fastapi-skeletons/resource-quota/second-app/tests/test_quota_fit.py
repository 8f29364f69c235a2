"""The quota arithmetic in docs/resources.md holds for the real manifests in k8s/.

Both apps fit the ResourceQuota; one more memory-app replica does not (that is the
documented demonstration), and every container stays inside the LimitRange.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.manifest_policy import load_documents, repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])
DOCS = [d for _, d in load_documents(ROOT / "k8s")]
UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}


def quantity(value: str | int) -> float:
    """Kubernetes quantity -> CPUs or bytes ("250m" -> 0.25, "1Gi" -> 1073741824)."""
    text = str(value)
    if text.endswith("m"):
        return int(text[:-1]) / 1000
    match = re.fullmatch(r"([0-9.]+)([KMG]i|[kMG])?", text)
    if not match:
        raise ValueError(f"unsupported quantity {value!r}")
    return float(match.group(1)) * UNITS[match.group(2) or ""]


def _one(kind: str) -> dict:
    (doc,) = [d for d in DOCS if d["kind"] == kind]
    return doc


def usage(replicas_override: dict[str, int] | None = None) -> dict[str, float]:
    totals = {"requests.cpu": 0.0, "requests.memory": 0.0, "limits.cpu": 0.0, "limits.memory": 0.0, "pods": 0.0}
    for doc in DOCS:
        if doc["kind"] != "Deployment":
            continue
        replicas = (replicas_override or {}).get(doc["metadata"]["name"], doc["spec"]["replicas"])
        totals["pods"] += replicas
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    totals[f"{section}.{resource}"] += replicas * quantity(container["resources"][section][resource])
    return totals


def exceeded(totals: dict[str, float]) -> list[str]:
    hard = {k: quantity(v) for k, v in _one("ResourceQuota")["spec"]["hard"].items()}
    return sorted(k for k, v in totals.items() if v > hard[k])


def test_both_apps_fit_the_quota() -> None:
    assert exceeded(usage()) == []


def test_second_app_uses_exactly_what_the_memory_app_leaves() -> None:
    hard = quantity(_one("ResourceQuota")["spec"]["hard"]["limits.memory"])
    assert usage()["limits.memory"] == hard


def test_scaling_the_memory_app_to_three_is_refused_on_limits_memory() -> None:
    memory_app = next(d for d in DOCS if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-memory-app"))
    assert exceeded(usage({memory_app["metadata"]["name"]: 3})) == ["limits.memory"]


def test_no_surge_pod_is_needed_for_rollouts() -> None:
    for doc in DOCS:
        if doc["kind"] == "Deployment":
            assert doc["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0, doc["metadata"]["name"]


def test_every_container_is_inside_the_limit_range() -> None:
    (limits,) = _one("LimitRange")["spec"]["limits"]
    for doc in DOCS:
        if doc["kind"] != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for resource in ("cpu", "memory"):
                request = quantity(container["resources"]["requests"][resource])
                limit = quantity(container["resources"]["limits"][resource])
                assert quantity(limits["min"][resource]) <= request <= limit <= quantity(limits["max"][resource])


@pytest.mark.parametrize(("value", "expected"), [("250m", 0.25), ("1", 1.0), ("512Mi", 512 * 2**20), ("1Gi", 2**30)])
def test_quantity_parser(value: str, expected: float) -> None:
    assert quantity(value) == expected


def test_quantity_parser_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        quantity("lots")
