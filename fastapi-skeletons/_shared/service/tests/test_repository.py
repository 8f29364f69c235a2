"""Repository-level files: the image version CI publishes, and scripts/create-pull-secret.sh.

VERSION names the image tag CI publishes (.github/workflows/ci.yaml, job "image") and
k8s/ must deploy exactly that tag. The pull-secret script runs against a fake kubectl that
records every call, so the tests can check that the token never shows up in a command
line, an environment, a file or the output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import fake_kubectl_harness
from tests.manifest_policy import repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])
SCRIPT = ROOT / "scripts" / "create-pull-secret.sh"
SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# Where this repository's own images live: ghcr.io/<owner> on GitHub, localhost (built
# where they run, never pulled) on the portal's local Git server.
IMAGE_REGISTRY = ${{ values.imageRegistry | dump }}


# --- VERSION and k8s/ ----------------------------------------------------------------------
def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def image_tag_problems(root: Path) -> list[str]:
    """Why `kubectl apply -k k8s/` would not run the images CI publishes for VERSION.

    Blue-green (Deployments with an app.kubernetes.io/slot label): each slot runs its own
    X.Y.Z of the image, CI publishes each, and VERSION is the newest of them.
    """
    version = (root / "VERSION").read_text().strip()
    if not SEMVER.fullmatch(version):
        return [f"VERSION must be X.Y.Z, got {version!r}"]
    kustomization = yaml.safe_load((root / "k8s" / "kustomization.yaml").read_text())
    overrides = {entry["name"]: entry for entry in kustomization.get("images") or []}
    problems, seen, slot_versions = [], 0, []
    for path in sorted((root / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            pod = ((doc or {}).get("spec") or {}).get("template", {}).get("spec") or {}
            slot = (((doc or {}).get("spec") or {}).get("template", {}).get("metadata") or {}).get("labels", {}).get(
                "app.kubernetes.io/slot"
            )
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                image = container["image"]
                if not image.startswith(IMAGE_REGISTRY + "/"):
                    continue  # third-party images (postgres) are not built here
                seen += 1
                name, _, tag = image.split("@")[0].rpartition(":")
                override = overrides.get(name, {})
                if "digest" in override or DIGEST.search(image):
                    continue  # pinned by digest: immutable, fine
                effective = str(override.get("newTag", tag))
                if slot is not None and SEMVER.fullmatch(effective):
                    slot_versions.append(effective)
                elif effective != version:
                    problems.append(f"{path.name}: {name} deploys tag {effective}, CI publishes {version} (VERSION)")
    if seen == 0:
        problems.append("no workload in k8s/ runs an image built by this repository")
    if slot_versions and max(slot_versions, key=_version_key) != version:
        newest = max(slot_versions, key=_version_key)
        problems.append(f"the newest slot runs {newest}, CI publishes {version} (VERSION) as the newest")
    return problems


def test_k8s_deploys_the_version_ci_publishes() -> None:
    assert image_tag_problems(ROOT) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("VERSION", None, "9.9.9\n", "CI publishes 9.9.9"),
        ("VERSION", None, "v1.0\n", "VERSION must be X.Y.Z"),
{%- if values.slotVersions %}
        ("k8s/green-deployment.yaml", ":${{ values.slotVersions.green }}", ":sha-0", "deploys tag sha-0"),
        ("k8s/blue-deployment.yaml", ":${{ values.slotVersions.blue }}", ":9.0.0", "the newest slot runs 9.0.0"),
{%- else %}
        ("k8s/kustomization.yaml", "newTag: ", "newTag: 'sha-0'  # ", "deploys tag sha-0"),
{%- endif %}
    ],
)
def test_image_tag_check_catches_disagreement(
    tmp_path: Path, file: str, old: str | None, new: str, expected: str
) -> None:
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    shutil.copy(ROOT / "VERSION", tmp_path / "VERSION")
    target = tmp_path / file
    if old is None:
        target.write_text(new)
    else:
        text = target.read_text()
        assert old in text, f"{file} has no {old!r}"
        target.write_text(text.replace(old, new))
    assert any(expected in problem for problem in image_tag_problems(tmp_path))


# --- scripts/create-pull-secret.sh -----------------------------------------------------------
TOKEN = "ghp_" + "T0kenThatMustNeverLeak" * 2
MANIFEST_NAMESPACE = yaml.safe_load((ROOT / "k8s" / "namespace.yaml").read_text())["metadata"]["name"]

# Understands exactly the calls the script makes; logs each call's argv and environment.
FAKE_KUBECTL = r'''
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_KUBECTL_STATE"])
with (state / "argv.log").open("a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
with (state / "env.log").open("a") as log:
    log.write(json.dumps(dict(os.environ)) + "\n")
args = sys.argv[1:]
ns = None
if args[:1] == ["-n"]:
    ns, args = args[1], args[2:]
namespaces = state / "namespaces"
existing = namespaces.read_text().split() if namespaces.exists() else []
def sa_file(name):
    return state / f"sa-{ns}-{name}.json"
if args[:2] == ["get", "namespace"]:
    sys.exit(0 if args[2] in existing else 1)
if args[0] == "apply" and args[-2:] == ["-f", "-"]:
    assert "--server-side" in args, args
    doc = json.loads(sys.stdin.read())
    meta = doc["metadata"]
    (state / f"{doc['kind'].lower()}-{meta['namespace']}-{meta['name']}.json").write_text(json.dumps(doc))
    print(f"{doc['kind'].lower()}/{meta['name']} serverside-applied")
    sys.exit(0)
if args[0] == "apply" and args[1] == "-f":
    import yaml
    doc = yaml.safe_load(Path(args[2]).read_text())
    namespaces.write_text(" ".join(existing + [doc["metadata"]["name"]]))
    sys.exit(0)
if args[:2] == ["get", "serviceaccount"]:
    if ns not in existing:
        sys.exit(1)
    sa = json.loads(sa_file(args[2]).read_text()) if sa_file(args[2]).exists() else {}
    if "-o" in args:
        print(" ".join(s["name"] for s in sa.get("imagePullSecrets", [])), end="")
    sys.exit(0)
if args[:2] == ["patch", "serviceaccount"]:
    assert "--type=json" in args, args
    sa = json.loads(sa_file(args[2]).read_text()) if sa_file(args[2]).exists() else {}
    for op in json.loads(args[args.index("-p") + 1]):
        assert op["op"] == "add", op
        if op["path"] == "/imagePullSecrets":
            sa["imagePullSecrets"] = op["value"]
        elif op["path"] == "/imagePullSecrets/-":
            sa["imagePullSecrets"].append(op["value"])
        else:
            raise SystemExit(f"unexpected patch {op}")
    sa_file(args[2]).write_text(json.dumps(sa))
    sys.exit(0)
print(f"fake kubectl: unsupported call {sys.argv[1:]}", file=sys.stderr)
sys.exit(2)
'''


@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, Path]:
    """A fake kubectl, its state (the app's namespace exists) and an empty TMPDIR."""
    cluster = fake_kubectl_harness.install(tmp_path, FAKE_KUBECTL)
    (cluster["state"] / "namespaces").write_text(MANIFEST_NAMESPACE)
    return cluster


def run(cluster: dict[str, Path], stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GHCR_TOKEN", "GHCR_USERNAME", "NAMESPACE")}
    full_env = {
        **base,
        "KUBECTL": str(cluster["kubectl"]),
        "FAKE_KUBECTL_STATE": str(cluster["state"]),
        "TMPDIR": str(cluster["tmpdir"]),
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=full_env, input=stdin, capture_output=True, text=True, timeout=60
    )


def secret(cluster: dict[str, Path], name: str = "ghcr-pull") -> dict:
    return json.loads((cluster["state"] / f"secret-{MANIFEST_NAMESPACE}-{name}.json").read_text())


def pull_secrets(cluster: dict[str, Path]) -> list[str]:
    sa = json.loads((cluster["state"] / f"sa-{MANIFEST_NAMESPACE}-default.json").read_text())
    return [s["name"] for s in sa["imagePullSecrets"]]


def registry_password(cluster: dict[str, Path]) -> str:
    config = json.loads(base64.b64decode(secret(cluster)["data"][".dockerconfigjson"]))
    return config["auths"]["ghcr.io"]["password"]


def assert_token_never_leaked(cluster: dict[str, Path], result: subprocess.CompletedProcess[str], token: str) -> None:
    assert token not in result.stdout + result.stderr
    assert token not in (cluster["state"] / "argv.log").read_text(), "token on a kubectl command line"
    assert token not in (cluster["state"] / "env.log").read_text(), "token in kubectl's environment"
    assert list(cluster["tmpdir"].iterdir()) == [], "the script wrote temporary files"


def test_creates_a_dockerconfigjson_secret_and_wires_it_to_the_pods(cluster: dict[str, Path]) -> None:
    result = run(cluster, GHCR_USERNAME="octo-cat", GHCR_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    doc = secret(cluster)
    assert doc["type"] == "kubernetes.io/dockerconfigjson"
    assert doc["metadata"]["namespace"] == MANIFEST_NAMESPACE
    assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "create-pull-secret.sh"
    entry = json.loads(base64.b64decode(doc["data"][".dockerconfigjson"]))["auths"]["ghcr.io"]
    assert (entry["username"], entry["password"]) == ("octo-cat", TOKEN)
    assert base64.b64decode(entry["auth"]).decode() == f"octo-cat:{TOKEN}"
    # The pods of k8s/ name no serviceAccountName: they run as the namespace's "default".
    assert pull_secrets(cluster) == ["ghcr-pull"]
    assert "rollout restart" in result.stdout
    assert_token_never_leaked(cluster, result, TOKEN)


def test_reads_the_token_from_stdin(cluster: dict[str, Path]) -> None:
    result = run(cluster, stdin=TOKEN + "\n", GHCR_USERNAME="octo-cat")
    assert result.returncode == 0, result.stderr
    assert registry_password(cluster) == TOKEN
    assert_token_never_leaked(cluster, result, TOKEN)


def test_is_idempotent_updates_the_token_and_keeps_other_pull_secrets(cluster: dict[str, Path]) -> None:
    sa = cluster["state"] / f"sa-{MANIFEST_NAMESPACE}-default.json"
    sa.write_text(json.dumps({"imagePullSecrets": [{"name": "other-registry"}]}))
    assert run(cluster, GHCR_USERNAME="octo-cat", GHCR_TOKEN=TOKEN).returncode == 0
    rotated = "ghp_" + "R0tated" * 5
    again = run(cluster, GHCR_USERNAME="octo-cat", GHCR_TOKEN=rotated)
    assert again.returncode == 0, again.stderr
    assert "already pulls with ghcr-pull" in again.stdout
    assert pull_secrets(cluster) == ["other-registry", "ghcr-pull"]
    assert registry_password(cluster) == rotated


def test_creates_the_apps_namespace_from_k8s_when_missing(cluster: dict[str, Path]) -> None:
    (cluster["state"] / "namespaces").write_text("")
    result = run(cluster, GHCR_USERNAME="octo-cat", GHCR_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert MANIFEST_NAMESPACE in (cluster["state"] / "namespaces").read_text().split()
    assert pull_secrets(cluster) == ["ghcr-pull"]


@pytest.mark.parametrize(
    ("env", "stdin", "message"),
    [
        ({"GHCR_TOKEN": TOKEN}, "", "set GHCR_USERNAME"),
        ({"GHCR_USERNAME": "octo-cat"}, "", "no token"),
        ({"GHCR_USERNAME": "octo cat; id", "GHCR_TOKEN": TOKEN}, "", "GHCR_USERNAME must be"),
        ({"GHCR_USERNAME": "octo-cat", "GHCR_TOKEN": TOKEN + '","x":"'}, "", "not a GitHub token"),
        ({"GHCR_USERNAME": "octo-cat"}, TOKEN[:10] + "\n", "not a GitHub token"),
        ({"GHCR_USERNAME": "octo-cat", "GHCR_TOKEN": TOKEN, "NAMESPACE": "Bad_NS"}, "", "NAMESPACE must be"),
        ({"GHCR_USERNAME": "octo-cat", "GHCR_TOKEN": TOKEN, "NAMESPACE": "elsewhere"}, "", "does not exist"),
        ({"GHCR_USERNAME": "octo-cat", "GHCR_TOKEN": TOKEN, "KUBECTL": "/nonexistent/kubectl"}, "", "kubectl not found"),
    ],
)
def test_refuses_bad_input_with_a_clear_message(
    cluster: dict[str, Path], env: dict[str, str], stdin: str, message: str
) -> None:
    result = run(cluster, stdin=stdin, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert not list(cluster["state"].glob("secret-*.json"))
    assert TOKEN not in result.stdout + result.stderr
