"""scripts/validate-deployment.sh (both modes), set-image-digest.sh, promote.sh and
plan-delivery.sh against a fake kubectl (tests/fake_kubectl_harness.py) and throw-away Git
repositories: the passing path and each failure the scripts must stop on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake_kubectl_harness import install

ROOT = Path(__file__).resolve().parents[1]
APP = yaml.safe_load((ROOT / "catalog-info.yaml").read_text())["metadata"]["name"]
BASE_NAMESPACE = yaml.safe_load((ROOT / "k8s" / "namespace.yaml").read_text())["metadata"]["name"]
IMAGE = yaml.safe_load((ROOT / "k8s" / "kustomization.yaml").read_text())["images"][0]["name"]
DIGEST = "sha256:" + "1" * 64
OTHER_DIGEST = "sha256:" + "2" * 64
REAL_KUBECTL = shutil.which("kubectl")

# Understands exactly the calls the scripts make; the cluster is state/cluster.json.
FAKE_KUBECTL = r'''
import json, os, subprocess, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
cluster = json.loads((state / "cluster.json").read_text())
args = sys.argv[1:]
with open(state / "calls.log", "a") as log:
    log.write(" ".join(args) + "\n")
if args and args[0] == "-n":
    args = args[2:]
def out(text="", code=0):
    sys.stdout.write(text)
    sys.exit(code)
if args[:1] == ["kustomize"]:
    os.execv(os.environ["REAL_KUBECTL"], [os.environ["REAL_KUBECTL"], *args])
if args[:1] == ["version"]:
    if not cluster.get("reachable", True):
        sys.stderr.write("The connection to the server localhost:8080 was refused\n")
        out(code=1)
    out('{"serverVersion": {"gitVersion": "v1.37.2"}}\n' if "json" in args else "Server Version: v1.37.2\n")
if args[:2] == ["config", "current-context"]:
    out("fake\n")
if args[:2] == ["get", "namespace"]:
    out(f"namespace/{args[2]}\n")
if args[:1] == ["apply"]:
    error = cluster.get("dry_run_error")
    if error:
        sys.stderr.write(error + "\n")
        out(code=1)
    out("configured (server dry run)\n")
if args[:2] == ["rollout", "status"]:
    if cluster.get("rollout_ok", True):
        out(f'deployment "{args[2]}" successfully rolled out\n')
    sys.stderr.write("error: timed out waiting for the condition\n")
    out(code=1)
if args[:2] == ["get", "deployment"]:
    field = args[-1]
    out(str(cluster["ready"]) if "readyReplicas" in field else str(cluster["replicas"]))
if args[:2] == ["get", "pods"]:
    # name|value|deletionTimestamp per pod, as the scripts' jsonpath asks (value: the
    # imageID the fake's pods run, or their image for overlays/local).
    out("".join(f"{pod[0]}|{pod[1]}|{pod[2] if len(pod) > 2 else ''}\n" for pod in cluster["pods"]))
if args[:2] == ["get", "--raw"]:
    smoke = cluster["smoke"]
    if smoke.get("error"):
        sys.stderr.write(smoke["error"] + "\n")
        out(code=1)
    out(smoke["body"])
sys.stderr.write("fake kubectl: unexpected call: " + " ".join(sys.argv[1:]) + "\n")
sys.exit(99)
'''

pytestmark = pytest.mark.skipif(REAL_KUBECTL is None, reason="kubectl is not installed (kubectl kustomize renders the overlays)")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of this repository, free to break, with every environment as a new repository
    has it: at VERSION's tag. Releases commit digests into overlays/ (the first one would
    otherwise change what these tests start from, and fail them on every later commit)."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "verify-results", "site"))
    version = (copy / "VERSION").read_text().strip()
    for overlay in (copy / "overlays").glob("*/kustomization.yaml"):
        overlay.write_text(
            re.sub(r'^(\s+)digest:\s*"?sha256:[0-9a-f]{64}"?\s*$', rf'\1newTag: "{version}"', overlay.read_text(), flags=re.M)
        )
    return copy


@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, Any]:
    fake = install(tmp_path, FAKE_KUBECTL)
    healthy = {
        "reachable": True,
        "rollout_ok": True,
        "ready": 1,
        "replicas": 1,
        "pods": [[f"{APP}-abc", f"{IMAGE}@{DIGEST}"]],
        "smoke": {"body": json.dumps({"service": APP, "environment": "dev"}, separators=(",", ":"))},
    }
    return {**fake, "state_doc": healthy}


def fake_cluster_env(cluster: dict[str, Any], **extra: str) -> dict[str, str]:
    """The environment that points the scripts at the fake cluster, its state written."""
    (cluster["state"] / "cluster.json").write_text(json.dumps(cluster["state_doc"]))
    return {
        **os.environ,
        "KUBECTL": str(cluster["kubectl"]),
        "REAL_KUBECTL": str(REAL_KUBECTL),
        "FAKE_STATE": str(cluster["state"]),
        **extra,
    }


def run(repo: Path, cluster: dict[str, Any], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / "validate-deployment.sh"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=fake_cluster_env(
            cluster,
            **{
                "PYTHON": sys.executable,
                "VERIFY_OUT": str(cluster["tmpdir"] / "results"),
                "VERIFY_TIMEOUT": "5",
                "TMPDIR": str(cluster["tmpdir"]),
                "PATH": os.environ["PATH"],
                **env,
            },
        ),
    )


def set_digest(repo: Path, env: str, digest: str) -> None:
    subprocess.run([str(repo / "scripts" / "set-image-digest.sh"), env, digest], check=True, capture_output=True)


# --- pre-merge -------------------------------------------------------------------------------
def test_pre_merge_passes_every_environment_and_says_the_cluster_part_was_skipped(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["reachable"] = False
    result = run(repo, cluster, "pre-merge")
    assert result.returncode == 0, result.stdout + result.stderr
    for env in ("dev", "staging", "prod"):
        assert f"PASS {env}/render" in result.stdout
        assert f"PASS {env}/policy" in result.stdout
        assert f"SKIP {env}/server-dry-run: no cluster reachable" in result.stdout
    assert "PASS flux" in result.stdout
    assert list(cluster["tmpdir"].iterdir()) == [], "temporary files left behind"


def test_pre_merge_runs_a_server_side_dry_run_when_a_cluster_is_reachable(repo: Path, cluster: dict) -> None:
    result = run(repo, cluster, "pre-merge", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS dev/server-dry-run" in result.stdout
    assert "apply --dry-run=server" in (cluster["state"] / "calls.log").read_text()


def test_pre_merge_fails_when_the_api_server_refuses_an_object(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["dry_run_error"] = 'Deployment.apps "x" is invalid: spec.template.spec.containers[0].image: Required value'
    result = run(repo, cluster, "pre-merge", "dev")
    assert result.returncode == 1
    assert "FAIL dev/server-dry-run" in result.stdout and "Required value" in result.stdout


def test_pre_merge_fails_on_a_broken_overlay(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["reachable"] = False
    (repo / "overlays" / "staging" / "patches" / "config.yaml").unlink()
    result = run(repo, cluster, "pre-merge")
    assert result.returncode == 1
    assert "FAIL staging/render: kubectl kustomize overlays/staging failed" in result.stdout
    assert "PASS dev/render" in result.stdout and "PASS prod/render" in result.stdout
    assert "staging/render" in result.stderr


def test_pre_merge_fails_when_prod_pins_replicas_its_autoscaler_owns(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["reachable"] = False
    patch = repo / "overlays" / "prod" / "patches" / "deployment.yaml"
    patch.write_text(patch.read_text().replace("spec:\n  template:", "spec:\n  replicas: 3\n  template:"))
    result = run(repo, cluster, "pre-merge", "prod")
    assert result.returncode == 1
    assert "FAIL prod/policy" in result.stdout and "although an HPA owns them" in result.stdout


def test_pre_merge_with_a_digest_wants_exactly_that_build(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["reachable"] = False
    set_digest(repo, "staging", DIGEST)
    assert run(repo, cluster, "pre-merge", "staging", "--digest", DIGEST).returncode == 0
    result = run(repo, cluster, "pre-merge", "staging", "--digest", OTHER_DIGEST)
    assert result.returncode == 1
    assert f"expected the promoted build @{OTHER_DIGEST}" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["pre-merge", "qa"], "unknown environment 'qa'"),
        (["pre-merge", "--digest", "sha256:xyz"], "--digest must be sha256:"),
        (["post-deploy"], "exactly one environment"),
        (["deploy"], "unknown mode 'deploy'"),
    ],
)
def test_bad_usage_is_refused_with_a_clear_message(repo: Path, cluster: dict, args: list[str], expected: str) -> None:
    result = run(repo, cluster, *args)
    assert result.returncode == 2
    assert expected in result.stderr


# --- post-deploy -----------------------------------------------------------------------------
def test_post_deploy_passes_a_healthy_environment_running_the_digest_git_names(repo: Path, cluster: dict) -> None:
    set_digest(repo, "dev", DIGEST)
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("rollout", "ready", "smoke", "digest"):
        assert f"PASS {check}:" in result.stdout
    calls = (cluster["state"] / "calls.log").read_text()
    assert f"-n {BASE_NAMESPACE}-dev rollout status deployment/{APP}" in calls
    assert f"/api/v1/namespaces/{BASE_NAMESPACE}-dev/services/http:{APP}:http/proxy/" in calls


@pytest.mark.parametrize(
    ("change", "failed", "reason"),
    [
        ({"pods": [[f"{APP}-abc", f"{IMAGE}@{OTHER_DIGEST}"]]}, "digest", f"expected {DIGEST}: {APP}-abc runs"),
        ({"pods": []}, "digest", "no pods of"),
        ({"ready": 0}, "ready", "only 0 of 1 replicas"),
        ({"rollout_ok": False}, "rollout", "did not finish rolling out"),
        ({"smoke": {"error": 'Error from server (ServiceUnavailable): no endpoints available for service "x"'}}, "smoke", "failed"),
        ({"smoke": {"body": '{"environment":"prod"}'}}, "smoke", "did not answer from dev"),
    ],
)
def test_post_deploy_fails_with_the_reason(repo: Path, cluster: dict, change: dict, failed: str, reason: str) -> None:
    set_digest(repo, "dev", DIGEST)
    cluster["state_doc"].update(change)
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 1
    assert f"FAIL {failed}:" in result.stdout
    assert reason in result.stdout
    summary = (cluster["tmpdir"] / "results" / "results.tsv").read_text()
    assert f"{failed}\tFAIL" in summary


def test_post_deploy_leaves_out_the_old_pods_still_terminating_after_the_rollout(repo: Path, cluster: dict) -> None:
    # Seen on the local cluster: the previous ReplicaSet's pod, deleted, runs the old
    # build for its grace period after the rollout finished; it serves nothing.
    set_digest(repo, "dev", DIGEST)
    cluster["state_doc"]["pods"] = [
        [f"{APP}-new", f"{IMAGE}@{DIGEST}"],
        [f"{APP}-old", f"{IMAGE}@{OTHER_DIGEST}", "2026-11-29T19:58:00Z"],
    ]
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS digest:" in result.stdout
    # The same pod not being deleted still fails the check.
    cluster["state_doc"]["pods"][1] = [f"{APP}-old", f"{IMAGE}@{OTHER_DIGEST}"]
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 1 and f"{APP}-old runs {IMAGE}@{OTHER_DIGEST}" in result.stdout


def test_post_deploy_takes_the_digest_to_expect_from_the_command_line(repo: Path, cluster: dict) -> None:
    result = run(repo, cluster, "post-deploy", "dev", "--digest", OTHER_DIGEST)
    assert result.returncode == 1
    assert f"expected {OTHER_DIGEST}" in result.stdout


def test_post_deploy_skips_the_digest_while_git_names_only_a_tag(repo: Path, cluster: dict) -> None:
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIP digest:" in result.stdout


def test_verify_runs_the_local_checks_and_every_one_passes(repo: Path, cluster: dict) -> None:
    local_image = next(
        line.split("image:", 1)[1].strip().strip('"')
        for line in subprocess.run([REAL_KUBECTL, "kustomize", str(ROOT / "overlays" / "local")],
                                   check=True, capture_output=True, text=True).stdout.splitlines()
        if line.strip().startswith("image:")
    )
    cluster["state_doc"]["pods"] = [[f"{APP}-abc", local_image]]
    cluster["state_doc"]["smoke"] = {"body": json.dumps({"environment": "local"}, separators=(",", ":"))}
    env = fake_cluster_env(cluster, VERIFY_OUT=str(cluster["tmpdir"] / "results"), VERIFY_TIMEOUT="5")
    result = subprocess.run([str(repo / "scripts" / "verify.sh")], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split("\t") for line in (cluster["tmpdir"] / "results" / "results.tsv").read_text().splitlines()]
    # The cluster tests want every requirement PASS: nothing may be skipped locally.
    assert [(row[0], row[1]) for row in rows] == [(c, "PASS") for c in ("rollout", "ready", "smoke", "image")]
    assert f"-n {BASE_NAMESPACE} rollout status" in (cluster["state"] / "calls.log").read_text()

    cluster["state_doc"]["pods"] = [[f"{APP}-abc", "ghcr.io/someone/else:1.0.0"]]
    fake_cluster_env(cluster)
    result = subprocess.run([str(repo / "scripts" / "verify.sh")], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert f"expected {local_image}: {APP}-abc runs ghcr.io/someone/else:1.0.0" in result.stdout


def test_usage_explains_both_modes(repo: Path, cluster: dict) -> None:
    result = run(repo, cluster, "--help")
    assert result.returncode == 2
    assert "Renders every overlay" in result.stderr and "the rollout finished" in result.stderr
    assert "set -euo" not in result.stderr


def test_post_deploy_refuses_without_a_cluster(repo: Path, cluster: dict) -> None:
    cluster["state_doc"]["reachable"] = False
    result = run(repo, cluster, "post-deploy", "dev")
    assert result.returncode == 2
    assert "cannot reach a cluster" in result.stderr


# --- set-image-digest.sh and promote.sh --------------------------------------------------------
def test_set_image_digest_pins_one_environment_and_promotes_it(repo: Path) -> None:
    script = repo / "scripts" / "set-image-digest.sh"
    set_digest(repo, "dev", DIGEST)
    assert subprocess.run([script, "--show", "dev"], capture_output=True, text=True).stdout.strip() == DIGEST
    subprocess.run([script, "--promote", "dev", "staging"], check=True, capture_output=True)
    staging = yaml.safe_load((repo / "overlays" / "staging" / "kustomization.yaml").read_text())
    assert staging["images"] == [{"name": IMAGE, "digest": DIGEST}]
    prod = subprocess.run([script, "--promote", "staging", "prod"], check=True, capture_output=True, text=True)
    assert f"overlays/prod now runs {DIGEST}" in prod.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["dev", "latest"], "not a digest"),
        (["qa", DIGEST], "unknown environment"),
        (["--promote", "dev", "staging"], "names no digest yet"),
    ],
)
def test_set_image_digest_refuses_bad_input(repo: Path, args: list[str], expected: str) -> None:
    result = subprocess.run([repo / "scripts" / "set-image-digest.sh", *args], capture_output=True, text=True)
    assert result.returncode != 0
    assert expected in result.stderr


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> Path:
    """repo as a clone of a bare "origin", as the workflow's checkout is."""
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        git(repo, *args)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial")
    git(tmp_path, "clone", "-q", "--bare", str(repo), "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "fetch", "-q", "origin")
    return repo


def promote(clone: Path, cluster: dict, *args: str, reachable: bool = False) -> subprocess.CompletedProcess[str]:
    cluster["state_doc"]["reachable"] = reachable
    return subprocess.run(
        [str(clone / "scripts" / "promote.sh"), *args],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=180,
        env=fake_cluster_env(
            cluster, PYTHON=sys.executable, PROMOTE_BY="commit", GH_TOKEN="", VERIFY_OUT=str(cluster["tmpdir"] / "results")
        ),
    )


def test_promote_moves_one_digest_dev_then_staging_then_prod_through_git(clone: Path, cluster: dict, tmp_path: Path) -> None:
    assert promote(clone, cluster, "dev", DIGEST).returncode == 0
    assert promote(clone, cluster, "staging").returncode == 0
    assert promote(clone, cluster, "prod").returncode == 0
    origin = tmp_path / "origin.git"
    log = git(origin, "log", "--format=%s", "main")
    assert f"deploy(dev): {DIGEST}" in log
    assert f"deploy(staging): {DIGEST} (from dev)" in log
    assert f"deploy(prod): {DIGEST} (from staging)" in log
    prod = git(origin, "show", "main:overlays/prod/kustomization.yaml")
    assert f'digest: "{DIGEST}"' in prod
    again = promote(clone, cluster, "prod")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_promote_stops_before_git_when_validation_fails(clone: Path, cluster: dict, tmp_path: Path) -> None:
    assert promote(clone, cluster, "dev", DIGEST).returncode == 0
    patch = clone / "overlays" / "staging" / "patches" / "deployment.yaml"
    patch.write_text(patch.read_text().replace("replicas: 2", "replicas: 0"))
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "break staging")
    result = promote(clone, cluster, "staging")
    assert result.returncode == 1
    assert "validation of staging" in result.stderr and "not promoted" in result.stderr
    assert "deploy(staging)" not in git(tmp_path / "origin.git", "log", "--format=%s", "main")
    assert git(clone, "status", "--porcelain") == ""


def test_promote_needs_the_source_environment_healthy_with_the_digest_when_the_cluster_is_reachable(
    clone: Path, cluster: dict, tmp_path: Path
) -> None:
    assert promote(clone, cluster, "dev", DIGEST).returncode == 0
    cluster["state_doc"]["rollout_ok"] = False
    refused = promote(clone, cluster, "staging", reachable=True)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"dev does not run {DIGEST} healthily" in refused.stderr and "not promoted to staging" in refused.stderr
    assert "deploy(staging)" not in git(tmp_path / "origin.git", "log", "--format=%s", "main")

    cluster["state_doc"]["rollout_ok"] = True
    cluster["state_doc"]["pods"] = [[f"{APP}-abc", f"{IMAGE}@{OTHER_DIGEST}"]]
    wrong_build = promote(clone, cluster, "staging", reachable=True)
    assert wrong_build.returncode == 1 and "not promoted to staging" in wrong_build.stderr

    cluster["state_doc"]["pods"] = [[f"{APP}-abc", f"{IMAGE}@{DIGEST}"]]
    healthy = promote(clone, cluster, "staging", reachable=True)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert f"deploy(staging): {DIGEST} (from dev)" in git(tmp_path / "origin.git", "log", "--format=%s", "main")


def test_promote_without_a_cluster_says_the_source_health_is_left_to_the_reviewer(clone: Path, cluster: dict) -> None:
    assert promote(clone, cluster, "dev", DIGEST).returncode == 0
    result = promote(clone, cluster, "staging")
    assert result.returncode == 0
    assert "left to the pull request's reviewer" in result.stdout


# --- plan-delivery.sh ------------------------------------------------------------------------
def plan(clone: Path, **env: str) -> dict[str, str]:
    out = subprocess.run(
        [str(clone / "scripts" / "plan-delivery.sh")], cwd=clone, capture_output=True, text=True, check=True,
        env={**os.environ, **env},
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def commit_change(clone: Path, path: str) -> tuple[str, str]:
    before = git(clone, "rev-parse", "HEAD").strip()
    target = clone / path
    target.write_text(target.read_text() + "\n# changed\n")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", f"change {path}")
    return before, git(clone, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("app/features.py", {"build": "true", "promote": ""}),
        ("overlays/staging/kustomization.yaml", {"build": "false", "promote": "prod"}),
        ("overlays/dev/kustomization.yaml", {"build": "false", "promote": ""}),
        ("docs/gitops.md", {"build": "false", "promote": ""}),
    ],
)
def test_plan_builds_for_service_changes_and_proposes_prod_after_staging(clone: Path, path: str, expected: dict) -> None:
    before, after = commit_change(clone, path)
    assert plan(clone, EVENT="push", BEFORE=before, AFTER=after) == expected


def test_plan_follows_a_manual_promotion_and_builds_on_a_new_branch(clone: Path) -> None:
    assert plan(clone, EVENT="workflow_dispatch", PROMOTE="staging") == {"build": "false", "promote": "staging"}
    assert plan(clone, EVENT="workflow_dispatch", PROMOTE="none") == {"build": "true", "promote": ""}
    head = git(clone, "rev-parse", "HEAD").strip()
    assert plan(clone, EVENT="push", BEFORE="0" * 40, AFTER=head) == {"build": "true", "promote": ""}
