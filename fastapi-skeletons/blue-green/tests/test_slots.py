"""The two slots are one Deployment twice: blue and green may differ only in the slot
(name suffix, slot label), the version label and the image tag. Anything else (a probe,
a limit, an env var changed in one file only) would make a switch change more than the
version, so it fails here. The Services and budgets must match what the switch expects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.manifest_policy import repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])
K8S = ROOT / "k8s"
SLOT_LABEL = "app.kubernetes.io/slot"  # DEFAULT_SLOT_LABEL of the portal's rollouts plugin
VERSION_LABEL = "app.kubernetes.io/version"


def load(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def deployment(slot: str) -> dict[str, Any]:
    [doc] = load(f"{slot}-deployment.yaml")
    return doc


def image_tag(doc: dict[str, Any]) -> str:
    return doc["spec"]["template"]["spec"]["containers"][0]["image"].rpartition(":")[2]


def normalized(doc: dict[str, Any], slot: str) -> Any:
    """The Deployment with its slot and version replaced by placeholders."""
    name = doc["metadata"]["labels"]["app.kubernetes.io/name"]
    version = image_tag(doc)
    image = doc["spec"]["template"]["spec"]["containers"][0]["image"]
    replace = {slot: "<slot>", f"{name}-{slot}": "<name>-<slot>", version: "<version>", image: "<image>:<version>"}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return replace.get(value, value)
        return value

    return walk(doc)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                found.append(f"{path}/{key}: only in {'green' if key in b else 'blue'}")
            else:
                found += differences(a[key], b[key], f"{path}/{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}/{i}")]
    return [] if a == b else [f"{path}: blue {a!r}, green {b!r}"]


def slot_differences(blue: dict[str, Any], green: dict[str, Any]) -> list[str]:
    blue_image, green_image = (d["spec"]["template"]["spec"]["containers"][0]["image"] for d in (blue, green))
    found = differences(normalized(blue, "blue"), normalized(green, "green"))
    if blue_image.rpartition(":")[0] != green_image.rpartition(":")[0]:
        found.append(f"the slots run different images: {blue_image}, {green_image}")
    return found


def test_blue_and_green_differ_only_in_slot_version_and_image_tag() -> None:
    assert slot_differences(deployment("blue"), deployment("green")) == []


def test_the_diff_catches_any_other_difference() -> None:
    green = deployment("green")
    green["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"
    green["spec"]["replicas"] = 7
    assert slot_differences(deployment("blue"), green) == [
        "/spec/replicas: blue {!r}, green 7".format(deployment("blue")["spec"]["replicas"]),
        "/spec/template/spec/containers/0/resources/limits/memory: blue '192Mi', green '1Gi'",
    ]
    renamed = deployment("green")
    renamed["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/other/app:2.0.0"
    assert any("different images" in d for d in slot_differences(deployment("blue"), renamed))


def test_each_slot_labels_its_pods_with_its_slot_and_version() -> None:
    for slot in ("blue", "green"):
        doc = deployment(slot)
        version = image_tag(doc)
        assert doc["metadata"]["name"].endswith(f"-{slot}")
        assert doc["spec"]["selector"]["matchLabels"][SLOT_LABEL] == slot
        for labels in (doc["metadata"]["labels"], doc["spec"]["template"]["metadata"]["labels"]):
            assert labels[SLOT_LABEL] == slot
            assert labels[VERSION_LABEL] == version
        # The version is the image's (Dockerfile ARG APP_VERSION): never overridden here.
        env = {e["name"]: e for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert "APP_VERSION" not in env
        assert env["SLOT"]["valueFrom"]["fieldRef"]["fieldPath"] == f"metadata.labels['{SLOT_LABEL}']"


def test_the_live_and_the_preview_service_select_different_slots() -> None:
    [live] = load("service.yaml")
    [preview] = load("preview-service.yaml")
    slots = {live["spec"]["selector"][SLOT_LABEL], preview["spec"]["selector"][SLOT_LABEL]}
    assert slots == {"blue", "green"}
    assert preview["metadata"]["annotations"]["rollouts.backstage.io/preview-of"] == live["metadata"]["name"]
    # Apart from the slot, both select exactly the pods of the pair.
    rest = {k: v for k, v in live["spec"]["selector"].items() if k != SLOT_LABEL}
    assert rest == {k: v for k, v in preview["spec"]["selector"].items() if k != SLOT_LABEL}
    assert rest == {k: v for k, v in deployment("blue")["spec"]["selector"]["matchLabels"].items() if k != SLOT_LABEL}
    for service in (live, preview):
        assert service["metadata"]["annotations"]["rollouts.backstage.io/entity-ref"].startswith("component:")


def test_one_disruption_budget_per_slot() -> None:
    budgets = load("pdbs.yaml")
    assert sorted(b["spec"]["selector"]["matchLabels"][SLOT_LABEL] for b in budgets) == ["blue", "green"]
    for budget in budgets:
        assert budget["spec"]["maxUnavailable"] == 1
        slot = budget["spec"]["selector"]["matchLabels"][SLOT_LABEL]
        assert budget["spec"]["selector"]["matchLabels"] == deployment(slot)["spec"]["selector"]["matchLabels"]
