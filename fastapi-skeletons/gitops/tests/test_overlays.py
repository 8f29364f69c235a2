"""The environments as Flux applies them: every overlay rendered with kubectl kustomize and
checked by scripts/check_rendered.py, whose rules each reject a bad render here too."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from check_rendered import environment_problems, flux_problems  # noqa: E402

APP = yaml.safe_load((ROOT / "catalog-info.yaml").read_text())["metadata"]["name"]
BASE_NAMESPACE = yaml.safe_load((ROOT / "k8s" / "namespace.yaml").read_text())["metadata"]["name"]
ENVIRONMENTS = ("dev", "staging", "prod")
DIGEST = "sha256:" + "ab" * 32

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def render(directory: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["kubectl", "kustomize", str(directory)], check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def kind(docs: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == wanted)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    return request.param, render(ROOT / "overlays" / request.param)


def test_every_environment_passes_its_checks(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    env, docs = rendered
    assert environment_problems(docs, env, f"{BASE_NAMESPACE}-{env}", APP) == []


def test_each_environment_has_its_own_namespace_config_and_size(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    env, docs = rendered
    assert kind(docs, "Namespace")["metadata"]["name"] == f"{BASE_NAMESPACE}-{env}"
    assert kind(docs, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert kind(docs, "ConfigMap")["data"]["ENVIRONMENT"] == env
    deployment = kind(docs, "Deployment")
    if env == "prod":
        assert "replicas" not in deployment["spec"]
        assert kind(docs, "HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 2
    else:
        assert deployment["spec"]["replicas"] == {"dev": 1, "staging": 2}[env]
        assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]


def _good(env: str = "dev") -> list[dict[str, Any]]:
    return render(ROOT / "overlays" / env)


@needs_kubectl
@pytest.mark.parametrize(
    ("env", "break_it", "expected"),
    [
        ("prod", lambda docs: kind(docs, "Deployment")["spec"].update(replicas=3), "although an HPA owns them"),
        ("dev", lambda docs: kind(docs, "Deployment")["spec"].pop("replicas"), "no replicas and no HorizontalPodAutoscaler"),
        ("dev", lambda docs: kind(docs, "Service")["metadata"].update(namespace="other"), "not "),
        ("dev", lambda docs: kind(docs, "ConfigMap")["data"].update(ENVIRONMENT="prod"), "ENVIRONMENT must be dev"),
        (
            "dev",
            lambda docs: kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.27"),
            "not this repository's image",
        ),
        (
            "dev",
            lambda docs: kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(
                allowPrivilegeEscalation=True
            ),
            "allowPrivilegeEscalation",
        ),
    ],
)
def test_each_rule_rejects_a_bad_render(env: str, break_it: Any, expected: str) -> None:
    docs = copy.deepcopy(_good(env))
    break_it(docs)
    assert any(expected in p for p in environment_problems(docs, env, f"{BASE_NAMESPACE}-{env}", APP))


@needs_kubectl
def test_a_promotion_must_carry_exactly_the_promoted_digest() -> None:
    docs = _good("staging")
    problems = environment_problems(docs, "staging", f"{BASE_NAMESPACE}-staging", APP, DIGEST)
    assert any("expected the promoted build" in p for p in problems)


@needs_kubectl
def test_flux_registers_every_environment_with_prune_wait_and_timeout() -> None:
    docs = render(ROOT / "flux")
    assert flux_problems(docs) == []
    paths = {d["spec"]["path"] for d in docs if d["kind"] == "Kustomization"}
    assert paths == {f"./overlays/{env}" for env in ENVIRONMENTS}


@needs_kubectl
@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("prune", False, "prune must be true"), ("wait", False, "needs wait"), ("timeout", None, "needs a timeout")],
)
def test_flux_rules_reject_a_bad_kustomization(field: str, value: Any, expected: str) -> None:
    docs = render(ROOT / "flux")
    target = next(d for d in docs if d["kind"] == "Kustomization")
    target["spec"][field] = value
    assert any(expected in p for p in flux_problems(docs))


@needs_kubectl
def test_flux_rules_want_every_environment() -> None:
    docs = [d for d in render(ROOT / "flux") if not d["metadata"]["name"].endswith("-prod")]
    assert "no Kustomization applies ./overlays/prod" in flux_problems(docs)
