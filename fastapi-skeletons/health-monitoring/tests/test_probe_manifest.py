"""The Deployment's probe numbers fit the app's timings."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings
from tests.manifest_policy import load_documents, repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])


def _container() -> dict:
    docs = load_documents(ROOT / "k8s")
    deployment = next(d for _, d in docs if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_all_three_probe_types_are_configured() -> None:
    container = _container()
    assert container["startupProbe"]["httpGet"]["path"] == "/startup"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_startup_budget_covers_the_configured_slow_start() -> None:
    container = _container()
    env = {e["name"]: e.get("value") for e in container["env"]}
    delay = float(env["STARTUP_DELAY_SECONDS"])
    probe = container["startupProbe"]
    budget = probe["periodSeconds"] * probe["failureThreshold"]
    assert budget >= delay + 20, f"startup budget {budget}s too close to the {delay}s slow start"
    assert delay == Settings().startup_delay_seconds


def test_probe_timeouts_are_shorter_than_their_periods() -> None:
    container = _container()
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[name]
        assert probe.get("timeoutSeconds", 1) < probe["periodSeconds"], name


def test_liveness_is_more_patient_than_readiness() -> None:
    container = _container()
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > readiness["periodSeconds"] * readiness["failureThreshold"]
