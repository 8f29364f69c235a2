"""scripts/bg-switch.sh, the real script, run against a fake kubectl (tests/fake_kubectl.py).

The patches it sends are compared with the ones the portal's Rollouts plugin sends for the
same switch (plugins/rollouts-backend switchTraffic.test.ts, rollouts-common
blueGreen.test.ts): either tool must be able to roll back what the other did.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(os.environ.get("BG_SWITCH_SCRIPT", ROOT / "scripts" / "bg-switch.sh"))
FAKE = Path(__file__).with_name("fake_kubectl.py")
REAL_KUBECTL = shutil.which("kubectl")

NAMESPACE = "shop"
SERVICE = "demo-api"
PREVIEW = "demo-api-preview"
ENTITY = "component:default/demo-api"
SLOT = "app.kubernetes.io/slot"
VERSIONS = {"blue": "1.0.0", "green": "2.0.0"}

pytestmark = pytest.mark.skipif(
    REAL_KUBECTL is None, reason="kubectl is not installed (the fake cluster formats its answers with the real kubectl)"
)


def deployment(slot: str, *, replicas: int = 2, status: dict | None = None, generation: int = 3, owner: str = ENTITY, **spec: object) -> dict:
    labels = {"app.kubernetes.io/name": SERVICE, SLOT: slot, "app.kubernetes.io/version": VERSIONS[slot]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"{SERVICE}-{slot}", "namespace": NAMESPACE, "uid": f"uid-{slot}", "generation": generation,
            "labels": labels, "annotations": {"rollouts.backstage.io/entity-ref": owner, "deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": SERVICE, SLOT: slot}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": f"ghcr.io/example/{SERVICE}:{VERSIONS[slot]}"}]},
            },
            **spec,
        },
        "status": status
        if status is not None
        else {
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
        },
    }


def pod(slot: str, suffix: str, ip: str, ready: bool = True) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{SERVICE}-{slot}-{suffix}", "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": SERVICE, SLOT: slot, "pod-template-hash": "abc"},
        },
        "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def service(name: str, slot: str, annotations: dict | None = None, uid: str | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name, "namespace": NAMESPACE, "uid": uid or f"uid-{name}",
            "labels": {"app.kubernetes.io/name": SERVICE},
            "annotations": {"rollouts.backstage.io/entity-ref": ENTITY, **(annotations or {})},
        },
        "spec": {"selector": {"app.kubernetes.io/name": SERVICE, SLOT: slot}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def health(slot: str) -> dict:
    return {"status": "200", "body": json.dumps({"status": "ok", "version": VERSIONS[slot], "slot": slot})}


def cluster(live: str = "blue", preview: str = "green", live_annotations: dict | None = None) -> dict:
    pods = [pod("blue", "a1", "10.0.0.1"), pod("blue", "b2", "10.0.0.2"), pod("green", "c3", "10.0.0.3"), pod("green", "d4", "10.0.0.4")]
    return {
        "namespace": NAMESPACE,
        "services": {
            SERVICE: service(SERVICE, live, live_annotations),
            PREVIEW: service(PREVIEW, preview, {"rollouts.backstage.io/preview-of": SERVICE}),
        },
        "deployments": {d["metadata"]["name"]: d for d in (deployment("blue"), deployment("green"))},
        "pods": {p["metadata"]["name"]: p for p in pods},
        "http": {"blue": health("blue"), "green": health("green")},
        "hooks": {},
    }


class Fake:
    def __init__(self, tmp_path: Path, format_cache: Path) -> None:
        self.format_cache = format_cache
        # What Git says (the script's MANIFESTS_DIR): blue live, green in preview, as the
        # fake cluster starts, whatever this repository's own k8s/ names.
        self.manifests = tmp_path / "k8s"
        self.manifests.mkdir()
        self.commit_slots("blue", "green")
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.kubectl = tmp_path / "kubectl"
        self.kubectl.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
        self.kubectl.chmod(self.kubectl.stat().st_mode | stat.S_IEXEC)
        self.set(cluster())

    def set(self, data: dict) -> None:
        (self.state / "cluster.json").write_text(json.dumps(data))

    def commit_slots(self, live: str, preview: str) -> None:
        for name, slot in (("service.yaml", live), ("preview-service.yaml", preview)):
            (self.manifests / name).write_text(f"spec:\n  selector:\n    {SLOT}: \"{slot}\"\n")

    def get(self) -> dict:
        return json.loads((self.state / "cluster.json").read_text())

    def edit(self, change) -> None:  # noqa: ANN001
        data = self.get()
        change(data)
        self.set(data)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ, "KUBECTL": str(self.kubectl), "FAKE_KUBECTL_STATE": str(self.state),
            "FAKE_KUBECTL_CACHE": str(self.format_cache), "MANIFESTS_DIR": str(self.manifests), "REAL_KUBECTL": str(REAL_KUBECTL),
            "NAMESPACE": NAMESPACE, "SERVICE": SERVICE, "PREVIEW_SERVICE": PREVIEW, "TIMEOUT": "10", "SMOKE_REQUESTS": "3",
            "POLL_SECONDS": "0.05", **env,
        }
        return subprocess.run(["bash", str(SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=120)

    def _log(self, name: str) -> list[dict]:
        path = self.state / name
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def writes(self) -> list[dict]:
        return self._log("writes.log")

    def rejected(self) -> list[dict]:
        return self._log("rejected.log")

    def calls(self) -> list[list[str]]:
        return self._log("argv.log")

    def selector(self, name: str) -> str:
        return self.get()["services"][name]["spec"]["selector"][SLOT]


@pytest.fixture(scope="session")
def format_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubectl's formatting of an object, shared by every test (it never changes)."""
    return tmp_path_factory.mktemp("kubectl-format-cache")


@pytest.fixture
def fake(tmp_path: Path, format_cache: Path) -> Fake:
    return Fake(tmp_path, format_cache)


def assert_refused(result: subprocess.CompletedProcess[str], fake: Fake, message: str, code: int = 1) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert fake.writes() == [], "a refused switch must write nothing"
    assert not any(call[2:3] == ["patch"] for call in fake.calls()), "a refused switch must not even try to patch"


# The patch the Rollouts plugin sends for blue -> green on a Service with annotations
# (switchTraffic.test.ts: pinnedPatch around planSwitch).
PLUGIN_PATCH_BLUE_TO_GREEN = [
    {"op": "test", "path": "/metadata/uid", "value": f"uid-{SERVICE}"},
    {"op": "test", "path": "/metadata/annotations/rollouts.backstage.io~1entity-ref", "value": ENTITY},
    {"op": "test", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "blue"},
    {"op": "replace", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "green"},
    {"op": "add", "path": "/metadata/annotations/rollouts.backstage.io~1previous-slot", "value": "blue"},
]


# --- the happy path -------------------------------------------------------------------------


def test_switch_sends_the_plugins_patch_waits_for_the_endpoints_and_repoints_the_preview(fake: Fake) -> None:
    fake.edit(lambda c: c.update(endpoint_lag=3))
    result = fake.run("switch")
    assert result.returncode == 0, result.stderr
    live, preview = fake.writes()
    assert live == {"service": SERVICE, "patch": PLUGIN_PATCH_BLUE_TO_GREEN}
    assert preview == {
        "service": PREVIEW,
        "patch": [
            {"op": "test", "path": "/metadata/uid", "value": f"uid-{PREVIEW}"},
            {"op": "test", "path": "/metadata/annotations/rollouts.backstage.io~1entity-ref", "value": ENTITY},
            {"op": "test", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "green"},
            {"op": "replace", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "blue"},
        ],
    }
    assert fake.selector(SERVICE) == "green" and fake.selector(PREVIEW) == "blue"
    assert fake.get()["services"][SERVICE]["metadata"]["annotations"]["rollouts.backstage.io/previous-slot"] == "blue"
    # It waited: the EndpointSlices were read again until the lag was over.
    slice_reads = [c for c in fake.calls() if c[2:4] == ["get", "endpointslices"] and f"kubernetes.io/service-name={SERVICE}" in c]
    assert len(slice_reads) >= 4
    out = result.stdout
    assert "switch: Service shop/demo-api from 'blue' to 'green'" in out
    assert "smoke test: 3/3 answered 200 with version 2.0.0" in out
    assert "routes only to 'green'" in out
    done = next(line for line in out.splitlines() if line.startswith("DONE: "))
    for phase in ("checks ", "smoke test ", "patch ", "endpoints converged ", "preview repointed "):
        assert phase in done, out
    assert done.startswith("DONE: demo-api switched from 'blue' to 'green' in ")
    # Git still names the old slot: the script says what to commit, or apply -k switches back.
    assert out.splitlines()[-3:] == [
        "NEXT: commit the new slots, or the next 'kubectl apply -k k8s/' switches traffic back to 'blue':",
        "      k8s/service.yaml          app.kubernetes.io/slot: green",
        "      k8s/preview-service.yaml  app.kubernetes.io/slot: blue",
    ]


def test_the_previous_slot_annotation_is_replaced_when_present(fake: Fake) -> None:
    fake.set(cluster(live_annotations={"rollouts.backstage.io/previous-slot": "green"}))
    assert fake.run("switch", "green").returncode == 0
    assert fake.writes()[0]["patch"][4] == {
        "op": "replace", "path": "/metadata/annotations/rollouts.backstage.io~1previous-slot", "value": "blue",
    }


def test_status_shows_live_idle_rollouts_endpoints_and_the_previous_slot(fake: Fake) -> None:
    fake.set(cluster(live_annotations={"rollouts.backstage.io/previous-slot": "green"}))
    fake.edit(lambda c: c["deployments"]["demo-api-green"]["status"].update(availableReplicas=1))
    result = fake.run("status")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "live slot:     blue" in out and "idle slot:     green" in out
    assert "previous slot: green (rollouts.backstage.io/previous-slot)" in out
    assert "endpoints:     blue=2 green=0 unknown=0 not-ready=0" in out
    assert "selects slot:  green" in out and "endpoints:     blue=0 green=2 unknown=0 not-ready=0" in out
    assert 'blue   live  deployment/demo-api-blue version=1.0.0 ready=2/2 available=2: deployment "demo-api-blue" successfully rolled out (ready for traffic)' in out
    assert "green  idle  deployment/demo-api-green version=2.0.0" in out
    assert "NOT ready for traffic: Waiting for deployment \"demo-api-green\" rollout to finish: 1 of 2 updated replicas are available..." in out
    assert fake.writes() == []


def test_dry_run_prints_the_patches_and_writes_nothing(fake: Fake) -> None:
    result = fake.run("switch", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert fake.writes() == [] and not any(c[2:3] == ["patch"] for c in fake.calls())
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]
    assert printed[0] == PLUGIN_PATCH_BLUE_TO_GREEN
    assert printed[1][3] == {"op": "replace", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "blue"}
    assert "dry run: nothing was written" in result.stdout
    assert fake.selector(SERVICE) == "blue"


def test_rollback_goes_to_the_slot_in_the_annotation(fake: Fake) -> None:
    # As the plugin or this script left it after blue -> green.
    fake.set(cluster(live="green", preview="blue", live_annotations={"rollouts.backstage.io/previous-slot": "blue"}))
    result = fake.run("rollback")
    assert result.returncode == 0, result.stderr
    assert fake.writes()[0]["patch"][2:] == [
        {"op": "test", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "green"},
        {"op": "replace", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "blue"},
        {"op": "replace", "path": "/metadata/annotations/rollouts.backstage.io~1previous-slot", "value": "green"},
    ]
    assert "smoke test: 3/3 answered 200 with version 1.0.0" in result.stdout
    assert fake.selector(SERVICE) == "blue" and fake.selector(PREVIEW) == "green"


def test_rollback_after_a_switch_by_the_script_restores_the_start(fake: Fake) -> None:
    assert fake.run("switch").returncode == 0
    result = fake.run("rollback")
    assert result.returncode == 0
    assert fake.selector(SERVICE) == "blue" and fake.selector(PREVIEW) == "green"
    # k8s/ names these slots again: nothing to commit.
    assert "NEXT:" not in result.stdout, result.stdout
    annotations = fake.get()["services"][SERVICE]["metadata"]["annotations"]
    assert annotations["rollouts.backstage.io/previous-slot"] == "green"


def test_rollback_refuses_without_the_annotation(fake: Fake) -> None:
    assert_refused(fake.run("rollback"), fake, "has no 'rollouts.backstage.io/previous-slot' annotation")


# --- the target must be rolled out (rolloutStatus.ts + slotReadiness in blueGreen.ts) -------

NOT_ROLLED_OUT = {
    "generation not observed": (
        {"generation": 4, "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}},
        "Waiting for deployment spec update to be observed...",
    ),
    "progress deadline exceeded": (
        {"status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 2,
                    "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}},
        'deployment "demo-api-green" exceeded its progress deadline',
    ),
    "replicas not updated": (
        {"status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}},
        'Waiting for deployment "demo-api-green" rollout to finish: 1 out of 2 new replicas have been updated...',
    ),
    "old replicas terminating": (
        {"status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}},
        'Waiting for deployment "demo-api-green" rollout to finish: 1 old replicas are pending termination...',
    ),
    "updated replicas not available": (
        {"status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}},
        'Waiting for deployment "demo-api-green" rollout to finish: 1 of 2 updated replicas are available...',
    ),
    "paused": ({"paused": True}, "the Deployment is paused"),
    "scaled to zero": (
        {"replicas": 0, "status": {"observedGeneration": 3}}, "the Deployment is scaled to 0 replicas",
    ),
    "no status yet": ({"status": {}}, "Waiting for deployment spec update to be observed..."),
}


@pytest.mark.parametrize("change,reason", NOT_ROLLED_OUT.values(), ids=NOT_ROLLED_OUT.keys())
def test_refuses_a_target_that_is_not_rolled_out(fake: Fake, change: dict, reason: str) -> None:
    fake.edit(lambda c: c["deployments"].update({"demo-api-green": deployment("green", **change)}))
    # The same sentence the plugin gives (blueGreen.test.ts 'refuses unknown, live and unready targets').
    assert_refused(fake.run("switch", "green"), fake, f"Slot 'green' (Deployment demo-api-green) is not ready for traffic: {reason}.")


# --- the preview Service must route only to ready pods of the target ------------------------


def test_refuses_when_a_target_endpoint_is_not_ready(fake: Fake) -> None:
    fake.edit(lambda c: c["pods"].update({"demo-api-green-d4": pod("green", "d4", "10.0.0.4", ready=False)}))
    assert_refused(fake.run("switch"), fake, "must route only to ready endpoints of slot 'green'; its EndpointSlices hold: blue=0 green=1 unknown=0 not-ready=1.")


def test_refuses_when_the_preview_routes_to_something_else_too(fake: Fake) -> None:
    extra = {"addresses": ["10.9.9.9"], "conditions": {"ready": True}}
    fake.edit(lambda c: c.update(extra_endpoints={PREVIEW: [extra]}))
    assert_refused(fake.run("switch"), fake, "its EndpointSlices hold: blue=0 green=2 unknown=1 not-ready=0.")


def test_refuses_when_the_preview_has_no_endpoints(fake: Fake) -> None:
    fake.edit(lambda c: [c["pods"].pop(p) for p in ("demo-api-green-c3", "demo-api-green-d4")])
    assert_refused(fake.run("switch"), fake, "its EndpointSlices hold: blue=0 green=0 unknown=0 not-ready=0.")


def test_refuses_when_the_preview_selects_another_slot(fake: Fake) -> None:
    # E.g. after a switch by the plugin, which leaves the preview Service alone.
    fake.set(cluster(live="green", preview="green", live_annotations={"rollouts.backstage.io/previous-slot": "blue"}))
    assert_refused(fake.run("rollback"), fake, "selects slot 'green', not 'blue'")
    assert "bg-switch.sh preview blue" in fake.run("rollback").stderr
    result = fake.run("preview")
    assert result.returncode == 0, result.stderr
    assert fake.selector(PREVIEW) == "blue"
    assert fake.run("rollback").returncode == 0
    assert fake.selector(SERVICE) == "blue"


# --- the smoke test through the preview Service --------------------------------------------


@pytest.mark.parametrize(
    "answer,message",
    [
        ({"status": "500", "body": '{"detail":"boom"}'}, "smoke test: GET /health through demo-api-preview answered 500"),
        ({"status": "200", "body": '{"status":"ok","version":"1.0.0"}'}, "answered 200 but not version 2.0.0 of slot 'green'"),
        ({"status": "200", "body": '{"status":"ok"}'}, "answered 200 but not version 2.0.0"),
        ({"status": "000", "body": "URLError: timed out"}, "answered 000"),
    ],
    ids=["error", "wrong-version", "no-version", "no-connection"],
)
def test_refuses_when_the_smoke_test_fails(fake: Fake, answer: dict, message: str) -> None:
    fake.edit(lambda c: c["http"].update(green=answer))
    assert_refused(fake.run("switch"), fake, message)


def test_the_smoke_test_goes_through_the_preview_service_from_a_target_pod(fake: Fake) -> None:
    assert fake.run("switch", SMOKE_PATH="/version").returncode == 0
    execs = [c for c in fake.calls() if c[2:3] == ["exec"]]
    assert len(execs) == 3
    assert all(c[3].startswith("demo-api-green-") for c in execs)
    assert all(c[-1] == f"http://{PREVIEW}.{NAMESPACE}.svc:80/version" for c in execs)


# --- the patch is pinned: a concurrent change fails, never a lost update --------------------

CONCURRENT = {
    "someone switched": (
        {"service": SERVICE, "ops": [{"op": "replace", "path": "/spec/selector/app.kubernetes.io~1slot", "value": "green"}]},
        "its selector now names slot 'green', not 'blue' (someone else switched)",
    ),
    "re-created": (
        {"service": SERVICE, "ops": [{"op": "replace", "path": "/metadata/uid", "value": "uid-new"}]},
        "it was deleted and re-created (uid uid-demo-api is now uid-new)",
    ),
    "re-owned": (
        {"service": SERVICE, "ops": [{"op": "replace", "path": "/metadata/annotations/rollouts.backstage.io~1entity-ref", "value": "component:default/other"}]},
        "its rollouts.backstage.io/entity-ref annotation changed",
    ),
}


@pytest.mark.parametrize("hook,why", CONCURRENT.values(), ids=CONCURRENT.keys())
def test_a_concurrent_change_rejects_the_patch_with_a_clear_error(fake: Fake, hook: dict, why: str) -> None:
    # The change lands while the script runs its smoke test, after it read the Service.
    fake.edit(lambda c: c["hooks"].update(exec=[hook]))
    before = fake.get()["services"][SERVICE]
    result = fake.run("switch")
    assert result.returncode == 3, result.stderr
    assert "CONCURRENT CHANGE" in result.stderr and why in result.stderr
    assert "nothing was written" in result.stderr
    assert fake.writes() == []
    assert [r["patch"] for r in fake.rejected()] == [PLUGIN_PATCH_BLUE_TO_GREEN]
    after = fake.get()["services"][SERVICE]
    assert after["metadata"]["annotations"].get("rollouts.backstage.io/previous-slot") is None
    assert before["spec"]["selector"] != after["spec"]["selector"] or before["metadata"] != after["metadata"]


# --- ownership, as the plugin's WriteGuard --------------------------------------------------


def test_refuses_a_target_deployment_of_another_entity(fake: Fake) -> None:
    fake.edit(lambda c: c["deployments"].update({"demo-api-green": deployment("green", owner="component:default/other")}))
    assert_refused(fake.run("switch"), fake, "Deployment shop/demo-api-green belongs to 'component:default/other'")


@pytest.mark.parametrize("name", [SERVICE, PREVIEW])
def test_refuses_a_service_without_the_entity_annotation(fake: Fake, name: str) -> None:
    fake.edit(lambda c: c["services"][name]["metadata"]["annotations"].pop("rollouts.backstage.io/entity-ref"))
    assert_refused(fake.run("switch"), fake, f"Service shop/{name} has no 'rollouts.backstage.io/entity-ref' annotation")


def test_refuses_a_preview_service_of_another_service(fake: Fake) -> None:
    fake.edit(lambda c: c["services"][PREVIEW]["metadata"]["annotations"].update({"rollouts.backstage.io/preview-of": "other"}))
    assert_refused(fake.run("switch"), fake, "is the preview of 'other'", code=2)


def test_refuses_a_preview_service_that_selects_other_pods(fake: Fake) -> None:
    fake.edit(lambda c: c["services"][PREVIEW]["spec"]["selector"].update({"app.kubernetes.io/name": "other"}))
    assert_refused(fake.run("switch"), fake, "selects other pods than demo-api", code=2)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,env,code,message",
    [
        (["switch", "red"], {}, 2, "Service shop/demo-api has no slot 'red'; known slots: blue, green."),
        (["switch", "blue"], {}, 1, "Slot 'blue' is already live."),
        (["switch"], {"SERVICE": "nope"}, 2, 'services "nope" not found in namespace shop'),
        (["switch"], {"PREVIEW_SERVICE": "nope"}, 2, 'services "nope" not found in namespace shop'),
        (["switch"], {"NAMESPACE": "elsewhere"}, 2, 'services "demo-api" not found in namespace elsewhere'),
        (["status"], {"SERVICE": "nope"}, 2, 'services "nope" not found'),
        (["switch", "green", "blue"], {}, 2, "one slot only"),
        (["switch", "--force"], {}, 2, "unknown option '--force'"),
        (["switch", "Green!"], {}, 2, "is not a slot name"),
        (["rollback", "blue"], {}, 2, "rollback takes no slot"),
        (["jump"], {}, 2, "usage:"),
        (["switch"], {"TIMEOUT": "soon"}, 2, "TIMEOUT must be whole seconds"),
        (["switch"], {"POLL_SECONDS": "1s"}, 2, "POLL_SECONDS must be a number of seconds"),
        (["switch"], {"KUBECTL": "/nonexistent/kubectl"}, 2, "kubectl not found"),
    ],
)
def test_bad_input_gives_a_clear_error(fake: Fake, args: list[str], env: dict, code: int, message: str) -> None:
    assert_refused(fake.run(*args, **env), fake, message, code=code)


def test_refuses_a_service_that_is_not_blue_green(fake: Fake) -> None:
    fake.edit(lambda c: c["services"][SERVICE]["spec"]["selector"].pop(SLOT))
    assert_refused(fake.run("switch"), fake, "is not blue-green: its selector has no 'app.kubernetes.io/slot' label", code=2)


def test_a_slot_claimed_by_two_deployments_is_no_slot(fake: Fake) -> None:
    twin = deployment("green")
    twin["metadata"]["name"] = "demo-api-green-2"
    fake.edit(lambda c: c["deployments"].update({"demo-api-green-2": twin}))
    assert_refused(fake.run("switch", "green"), fake, "Slot 'green' is claimed by several Deployments (demo-api-green, demo-api-green-2)", code=2)


def test_times_out_when_the_endpoints_never_converge(fake: Fake) -> None:
    fake.edit(lambda c: c.update(endpoint_lag=10_000))
    result = fake.run("switch", TIMEOUT="1")
    assert result.returncode == 4, result.stderr
    assert "after 1s its EndpointSlices still hold: blue=2 green=0" in result.stderr
    assert "bg-switch.sh rollback" in result.stderr
