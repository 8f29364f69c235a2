"""Checks one rendered environment (kubectl kustomize overlays/<env>) or the Flux objects.

Called by scripts/validate-deployment.sh pre-merge; pure functions, so the tests prove each
rule rejects a bad render. Prints what it checked; exits 1 with one line per problem.

  check_rendered.py --environment dev --namespace NS --app NAME [--digest sha256:...] FILE
  check_rendered.py --flux FILE
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.manifest_policy import violations  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")
CLUSTER_SCOPED = {"Namespace"}


def environment_problems(
    docs: list[dict[str, Any]], environment: str, namespace: str, app: str, digest: str | None = None
) -> list[str]:
    """Why this render must not become ENVIRONMENT: policy, namespace, replicas, image, config."""
    problems = violations([(f"overlays/{environment}", d) for d in docs], app)
    for doc in docs:
        kind, meta = doc.get("kind"), doc.get("metadata") or {}
        where = f"{kind}/{meta.get('name')}"
        if kind == "Namespace":
            if meta.get("name") != namespace:
                problems.append(f"{where}: the namespace of {environment} is {namespace}")
        elif meta.get("namespace") != namespace:
            problems.append(f"{where}: in namespace {meta.get('namespace')}, not {namespace}")
    deployments = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"].get("name") == app]
    if len(deployments) != 1:
        return problems + [f"expected one Deployment/{app}, found {len(deployments)}"]
    deployment = deployments[0]
    autoscaled = any(
        d.get("kind") == "HorizontalPodAutoscaler" and (d.get("spec") or {}).get("scaleTargetRef", {}).get("name") == app
        for d in docs
    )
    replicas = deployment["spec"].get("replicas")
    if autoscaled and replicas is not None:
        problems.append(f"Deployment/{app}: sets replicas ({replicas}) although an HPA owns them")
    if not autoscaled and not replicas:
        problems.append(f"Deployment/{app}: no replicas and no HorizontalPodAutoscaler")
    for container in deployment["spec"]["template"]["spec"].get("containers", []):
        image = str(container.get("image", ""))
        if image.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] != app:
            problems.append(f"Deployment/{app}: container {container.get('name')} runs {image}, not this repository's image")
        if digest and not image.endswith(f"@{digest}"):
            problems.append(f"Deployment/{app}: runs {image}, expected the promoted build @{digest}")
    config = next((d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"].get("name") == f"{app}-config"), None)
    if config is None or (config.get("data") or {}).get("ENVIRONMENT") != environment:
        problems.append(f"ConfigMap/{app}-config: ENVIRONMENT must be {environment}")
    return problems


def flux_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Each environment has a Kustomization of its overlay that prunes, waits and times out."""
    sources = {d["metadata"]["name"] for d in docs if d.get("kind") == "GitRepository"}
    problems = [] if sources else ["no GitRepository"]
    paths = {}
    for doc in docs:
        if doc.get("kind") != "Kustomization":
            continue
        name, spec = doc["metadata"]["name"], doc.get("spec") or {}
        paths[spec.get("path")] = name
        if spec.get("prune") is not True:
            problems.append(f"Kustomization/{name}: prune must be true (a removed manifest must leave the cluster)")
        if spec.get("wait") is not True and not spec.get("healthChecks"):
            problems.append(f"Kustomization/{name}: needs wait: true or healthChecks (Ready must mean healthy)")
        if not spec.get("timeout"):
            problems.append(f"Kustomization/{name}: needs a timeout (how long a release may take to become healthy)")
        if (spec.get("sourceRef") or {}).get("name") not in sources:
            problems.append(f"Kustomization/{name}: its sourceRef names no GitRepository here")
    for environment in ENVIRONMENTS:
        if f"./overlays/{environment}" not in paths:
            problems.append(f"no Kustomization applies ./overlays/{environment}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--environment", choices=ENVIRONMENTS)
    parser.add_argument("--namespace")
    parser.add_argument("--app")
    parser.add_argument("--digest")
    parser.add_argument("--flux", action="store_true")
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    docs = [d for d in yaml.safe_load_all(args.file.read_text(encoding="utf-8")) if d]
    if args.flux:
        problems, checked = flux_problems(docs), f"{len(docs)} Flux objects: prune, wait and timeout per environment"
    else:
        if not (args.environment and args.namespace and args.app):
            parser.error("--environment, --namespace and --app are required")
        problems = environment_problems(docs, args.environment, args.namespace, args.app, args.digest)
        checked = f"{len(docs)} objects: policy, namespace {args.namespace}, replicas, image, config"
    if problems:
        print("\n".join(problems))
        return 1
    print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
