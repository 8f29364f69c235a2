"""A kustomization.yaml is not a Kubernetes object: it gets its own checks.

- it must be a mapping (apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization when set);
- every local entry of ``resources`` must exist (remote URLs are refused: offline and unpinned);
- every manifest in the same folder must be listed (otherwise ``kubectl apply -k`` silently skips it);
- its ``namespace:`` becomes the default namespace of the files it lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import KUSTOMIZATION_NAMES, YAML_SUFFIXES, load_file
from .model import Finding

RULE = "kustomization"
_REMOTE = re.compile(r"^(https?://|git@|ssh://|github\.com/)")


@dataclass
class Kustomization:
    path: Path
    namespace: str | None = None
    resources: list[Path] = field(default_factory=list)  # resolved local files/dirs
    findings: list[Finding] = field(default_factory=list)


def check_kustomization(path: Path) -> Kustomization:
    k = Kustomization(path=path)
    name = path.parent.name or str(path.parent)

    def add(message: str, fix: str, line: int | None = None) -> None:
        k.findings.append(Finding(str(path), "Kustomization", name, RULE, message, fix, line))

    docs = load_file(path)
    errors = [d for d in docs if d.error]
    if errors:
        add(f"invalid YAML: {errors[0].error}", "fix the YAML syntax", errors[0].line)
        return k
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        add("a kustomization must be exactly one YAML mapping", "keep one document with resources: [...]")
        return k
    data: dict[str, Any] = docs[0].data
    if data.get("kind", "Kustomization") != "Kustomization":
        add(f"kind is {data.get('kind')!r}, expected Kustomization", "set kind: Kustomization")
    api = data.get("apiVersion")
    if api is not None and not str(api).startswith("kustomize.config.k8s.io/"):
        add(f"apiVersion {api!r} is not a kustomize apiVersion", "set apiVersion: kustomize.config.k8s.io/v1beta1")
    if isinstance(data.get("namespace"), str):
        k.namespace = data["namespace"]
    resources = data.get("resources", [])
    if not isinstance(resources, list):
        add("resources must be a list of paths", "write resources: [file.yaml, ...]")
        resources = []
    for entry in resources:
        if not isinstance(entry, str):
            add(f"resources entry {entry!r} is not a path", "list file or folder paths")
            continue
        if _REMOTE.match(entry):
            add(f"remote resource {entry!r} cannot be checked offline and is not pinned",
                "vendor the manifests into the repository and list the local path")
            continue
        target = (path.parent / entry)
        if not target.exists():
            add(f"resources entry {entry!r} does not exist", f"create {entry} or remove it from resources")
            continue
        k.resources.append(target.resolve())
    listed = {p for p in k.resources}
    for sibling in sorted(path.parent.iterdir()):
        if sibling.is_file() and sibling.name.endswith(YAML_SUFFIXES) and sibling.name not in KUSTOMIZATION_NAMES:
            if sibling.resolve() not in listed:
                add(f"{sibling.name} is in the kustomization folder but not listed in resources, so "
                    "`kubectl apply -k` would not apply it",
                    f"add {sibling.name} to resources, or move it to a subfolder (e.g. examples/) if it must "
                    "not be applied")
    return k
