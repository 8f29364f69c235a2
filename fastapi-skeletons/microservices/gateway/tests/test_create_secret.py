"""scripts/create-secret.sh: the API-key Secrets, and a rotation in three steps, against a
fake kubectl that keeps Secrets in files and records every call. The keys must never show
up on a command line, in the output or in a left-over file, and at every step of a
rotation the key each caller sends must be one its callees accept."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from app.mesh.auth import CallerVerifiers
from tests import fake_kubectl_harness
from tests.manifest_policy import repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])
SCRIPT = ROOT / "scripts" / "create-secret.sh"
APP = yaml.safe_load((ROOT / "topology.yaml").read_text())["app"]

FAKE_KUBECTL = r'''
import base64, json, os, sys
from pathlib import Path
import yaml
state = Path(os.environ["FAKE_KUBECTL_STATE"])
with (state / "argv.log").open("a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
args = sys.argv[1:]
if args[:1] == ["-n"]:
    args = args[2:]
def secret_file(name):
    return state / f"secret-{name}.json"
if args[:2] == ["apply", "-f"]:
    sys.exit(0)
if args[:2] == ["get", "secret"]:
    path = secret_file(args[2])
    if not path.exists():
        sys.exit(1)
    if "-o" in args:
        key = args[args.index("-o") + 1].removeprefix("jsonpath={.data.").removesuffix("}")
        print(json.loads(path.read_text())["data"].get(key, ""), end="")
    sys.exit(0)
if args[:3] == ["create", "secret", "generic"]:
    data = {}
    for arg in args[4:]:
        if arg.startswith("--from-file="):
            key, _, file = arg.removeprefix("--from-file=").partition("=")
            data[key] = base64.b64encode(Path(file).read_bytes()).decode()
    print(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": args[3]}, "data": data}))
    sys.exit(0)
if args[:2] == ["label", "--local"]:
    doc = yaml.safe_load(sys.stdin.read())
    doc["metadata"]["labels"] = dict(a.split("=", 1) for a in args if "=" in a and not a.startswith("-"))
    print(yaml.safe_dump(doc))
    sys.exit(0)
if args[0] in ("create", "replace") and args[1:] == ["-f", "-"]:
    doc = yaml.safe_load(sys.stdin.read())
    path = secret_file(doc["metadata"]["name"])
    if (args[0] == "create") == path.exists():
        print(f"fake kubectl: {args[0]} of {'an existing' if path.exists() else 'a missing'} Secret", file=sys.stderr)
        sys.exit(1)
    path.write_text(json.dumps(doc))
    sys.exit(0)
print(f"fake kubectl: unsupported call {sys.argv[1:]}", file=sys.stderr)
sys.exit(2)
'''


@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, Path]:
    return fake_kubectl_harness.install(tmp_path, FAKE_KUBECTL)


def run(cluster: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "NAMESPACE"},
        "KUBECTL": str(cluster["kubectl"]),
        "FAKE_KUBECTL_STATE": str(cluster["state"]),
        "TMPDIR": str(cluster["tmpdir"]),
    }
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def secret(cluster: dict[str, Path], name: str) -> dict[str, str]:
    doc = json.loads((cluster["state"] / f"secret-{name}.json").read_text())
    assert doc["metadata"]["labels"]["backstage.io/kubernetes-id"] == APP
    return {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}


def sent_key(cluster: dict[str, Path], caller: str) -> str:
    return secret(cluster, f"{APP}-{caller}-api-key")["current"]


def accepts(cluster: dict[str, Path], tmp_path: Path, caller: str, key: str) -> bool:
    """Whether a callee with the verifiers Secret mounted as files accepts ``key``."""
    mounted = tmp_path / "mounted" / caller
    mounted.mkdir(parents=True, exist_ok=True)
    for old in mounted.iterdir():
        old.unlink()
    for slot, value in secret(cluster, f"{APP}-{caller}-api-key-verifiers").items():
        (mounted / slot).write_text(value)
    return CallerVerifiers(tmp_path / "mounted", (caller,)).identify(key) == caller


def leaked(cluster: dict[str, Path], result: subprocess.CompletedProcess[str], keys: list[str]) -> list[str]:
    argv = (cluster["state"] / "argv.log").read_text()
    return [k for k in keys if k in argv or k in result.stdout or k in result.stderr]


def test_creates_a_random_key_per_caller_and_its_digest_then_keeps_them(cluster: dict[str, Path], tmp_path: Path) -> None:
    result = run(cluster)
    assert result.returncode == 0, result.stderr
    keys = {caller: sent_key(cluster, caller) for caller in ("gateway", "orders")}
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys.values())
    assert keys["gateway"] != keys["orders"]
    for caller, key in keys.items():
        assert secret(cluster, f"{APP}-{caller}-api-key-verifiers") == {"current": hashlib.sha256(key.encode()).hexdigest()}
        assert accepts(cluster, tmp_path, caller, key)
    assert leaked(cluster, result, list(keys.values())) == []
    assert list(cluster["tmpdir"].iterdir()) == []
    again = run(cluster)
    assert again.returncode == 0 and "keeping it" in again.stdout
    assert {caller: sent_key(cluster, caller) for caller in keys} == keys


def test_a_rotation_never_refuses_the_key_a_caller_sends(cluster: dict[str, Path], tmp_path: Path) -> None:
    assert run(cluster).returncode == 0
    old = sent_key(cluster, "orders")

    staged = run(cluster, "rotate", "orders", "stage")
    assert staged.returncode == 0, staged.stderr
    new = secret(cluster, f"{APP}-orders-api-key")["next"]
    assert new != old
    # Callees accept the new key before the caller sends it.
    assert sent_key(cluster, "orders") == old
    assert accepts(cluster, tmp_path, "orders", old) and accepts(cluster, tmp_path, "orders", new)

    promoted = run(cluster, "rotate", "orders", "promote")
    assert promoted.returncode == 0, promoted.stderr
    assert secret(cluster, f"{APP}-orders-api-key") == {"current": new}
    # Caller pods not yet updated still send the old key: still accepted.
    assert accepts(cluster, tmp_path, "orders", new) and accepts(cluster, tmp_path, "orders", old)

    retired = run(cluster, "rotate", "orders", "retire")
    assert retired.returncode == 0, retired.stderr
    assert accepts(cluster, tmp_path, "orders", new)
    assert not accepts(cluster, tmp_path, "orders", old)
    assert leaked(cluster, retired, [old, new]) == []
    assert leaked(cluster, staged, [old, new]) == []
    # The gateway's key was not touched.
    assert accepts(cluster, tmp_path, "gateway", sent_key(cluster, "gateway"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("rotate", "inventory", "stage"), "no calling service 'inventory'"),
        (("rotate", "orders", "promote"), "nothing staged for orders"),
        (("rotate", "orders", "retire"), "no previous key of orders to retire"),
    ],
)
def test_a_rotation_step_out_of_order_is_refused_and_says_what_to_run(
    cluster: dict[str, Path], args: tuple[str, ...], expected: str
) -> None:
    assert run(cluster).returncode == 0
    result = run(cluster, *args)
    assert result.returncode == 1
    assert expected in result.stderr


def test_a_second_stage_before_promote_is_refused(cluster: dict[str, Path]) -> None:
    assert run(cluster).returncode == 0
    assert run(cluster, "rotate", "orders", "stage").returncode == 0
    result = run(cluster, "rotate", "orders", "stage")
    assert result.returncode == 1
    assert "already staged" in result.stderr
