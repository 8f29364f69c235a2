"""scripts/create-secret.sh and scripts/test-persistence.sh, run against a fake kubectl."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import REQUIRE_DATABASE

ROOT = Path(__file__).resolve().parents[1]
FAKE = Path(__file__).with_name("fake_kubectl.py")


@pytest.fixture
def kubectl(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "state"
    state.mkdir()
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return wrapper, state


def _run(script: str, kubectl: Path, state: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KUBECTL": str(kubectl), "FAKE_KUBECTL_STATE": str(state), **env}
    return subprocess.run(["bash", str(ROOT / "scripts" / script)], env=full_env, capture_output=True, text=True, timeout=60)


def _secret(state: Path) -> dict:
    files = list(state.glob("secret-*.yaml"))
    assert len(files) == 1, files
    return yaml.safe_load(files[0].read_text())


def test_create_secret_generates_a_password_that_never_hits_argv_or_output(kubectl: tuple[Path, Path]) -> None:
    wrapper, state = kubectl
    result = _run("create-secret.sh", wrapper, state)
    assert result.returncode == 0, result.stderr
    secret = _secret(state)
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert values["POSTGRES_USER"] == "app" and values["POSTGRES_DB"] == "app"
    assert re.fullmatch(r"[0-9a-f]{48}", values["POSTGRES_PASSWORD"])
    assert secret["metadata"]["labels"]["backstage.io/kubernetes-id"]
    assert values["POSTGRES_PASSWORD"] not in (state / "argv.log").read_text()
    assert values["POSTGRES_PASSWORD"] not in result.stdout + result.stderr


def test_create_secret_is_idempotent_and_keeps_the_existing_password(kubectl: tuple[Path, Path]) -> None:
    wrapper, state = kubectl
    assert _run("create-secret.sh", wrapper, state).returncode == 0
    first = _secret(state)
    again = _run("create-secret.sh", wrapper, state, POSTGRES_PASSWORD="another-password-1234")
    assert again.returncode == 0
    assert "keeping it" in again.stdout
    assert _secret(state) == first


def test_create_secret_uses_the_given_password(kubectl: tuple[Path, Path]) -> None:
    wrapper, state = kubectl
    result = _run("create-secret.sh", wrapper, state, POSTGRES_PASSWORD="my-own-long-password")
    assert result.returncode == 0, result.stderr
    assert base64.b64decode(_secret(state)["data"]["POSTGRES_PASSWORD"]).decode() == "my-own-long-password"


def _secret_applied_by_hand(state: Path, password: str | None) -> str:
    """What `kubectl apply -f k8s/postgres-secret.yaml` leaves in the cluster."""
    shape = yaml.safe_load((ROOT / "k8s" / "postgres-secret.yaml").read_text())
    values = dict(shape.get("stringData") or {})
    if password is not None:
        values["POSTGRES_PASSWORD"] = password
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    name = shape["metadata"]["name"]
    (state / f"secret-{name}.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": shape["metadata"], "data": data})
    )
    return name


def test_the_secret_shape_in_git_holds_no_password_and_is_never_applied() -> None:
    shape = yaml.safe_load((ROOT / "k8s" / "postgres-secret.yaml").read_text())
    assert shape["kind"] == "Secret"
    assert shape["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    keys = set(shape.get("stringData") or {}) | set(shape.get("data") or {})
    assert keys == {"POSTGRES_USER", "POSTGRES_DB"}, "no POSTGRES_PASSWORD key, not even an empty one"


def test_the_files_link_only_to_docs_that_exist() -> None:
    for path in [*(ROOT / "k8s").glob("*.yaml"), *(ROOT / "scripts").glob("*.sh")]:
        for link in re.findall(r"docs/[\w./-]+\.md", path.read_text()):
            assert (ROOT / link).is_file(), f"{path.name} links to {link}, which does not exist"


@pytest.mark.parametrize("password", [None, ""], ids=["no-password-key", "empty-password"])
def test_create_secret_replaces_a_secret_applied_by_hand_from_the_shape(
    kubectl: tuple[Path, Path], password: str | None
) -> None:
    wrapper, state = kubectl
    name = _secret_applied_by_hand(state, password)
    app = name.removesuffix("-postgres")
    for deployment in (name, app):
        (state / f"deployment-{deployment}").touch()
    result = _run("create-secret.sh", wrapper, state)
    assert result.returncode == 0, result.stderr
    assert "keeping it" not in result.stdout
    assert "applied by hand" in result.stderr
    values = {k: base64.b64decode(v).decode() for k, v in _secret(state)["data"].items()}
    assert re.fullmatch(r"[0-9a-f]{48}", values["POSTGRES_PASSWORD"])
    assert values["POSTGRES_PASSWORD"] not in result.stdout + result.stderr + (state / "argv.log").read_text()
    calls = [json.loads(line) for line in (state / "argv.log").read_text().splitlines()]
    restarted = [call[-1] for call in calls if call[2:4] == ["rollout", "restart"]]
    assert restarted == [f"deployment/{name}", f"deployment/{app}"]


def test_create_secret_keeps_the_shape_secret_when_a_given_password_is_refused(kubectl: tuple[Path, Path]) -> None:
    wrapper, state = kubectl
    _secret_applied_by_hand(state, None)
    result = _run("create-secret.sh", wrapper, state, POSTGRES_PASSWORD="short")
    assert result.returncode == 1
    assert "at least 16 characters" in result.stderr
    assert "POSTGRES_PASSWORD" not in _secret(state)["data"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POSTGRES_PASSWORD": "short"}, "at least 16 characters"),
        ({"POSTGRES_USER": "app; DROP ROLE x"}, "POSTGRES_USER must be"),
        ({"KUBECTL": "/nonexistent/kubectl"}, "kubectl not found"),
    ],
)
def test_create_secret_refuses_bad_input_with_a_clear_message(
    kubectl: tuple[Path, Path], env: dict[str, str], message: str
) -> None:
    wrapper, state = kubectl
    result = _run("create-secret.sh", wrapper, state, **env)
    assert result.returncode == 1
    assert message in result.stderr
    assert not list(state.glob("secret-*.yaml"))


@pytest.fixture
def pg_env(database_url: str) -> dict[str, str]:
    if shutil.which("psql") is None:
        if REQUIRE_DATABASE:
            pytest.fail("REQUIRE_DATABASE=1 but the psql client is not installed (apt-get install postgresql-client)")
        pytest.skip("psql client not installed")
    params = conninfo_to_dict(database_url)
    return {
        "PGHOST": str(params.get("host", "127.0.0.1")),
        "PGPORT": str(params.get("port", 5432)),
        "PGUSER": str(params.get("user", "postgres")),
        "PGDATABASE": str(params.get("dbname", "postgres")),
        "PGPASSWORD": str(params.get("password", "")),
    }


@pytest.mark.database
def test_persistence_script_passes_when_data_survives(kubectl: tuple[Path, Path], pg_env: dict[str, str]) -> None:
    wrapper, state = kubectl
    result = _run("test-persistence.sh", wrapper, state, **pg_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: the row written before deleting db-pod-1 was read back from db-pod-2." in result.stdout
    calls = [json.loads(line) for line in (state / "argv.log").read_text().splitlines()]
    assert any("delete" in call and "db-pod-1" in call for call in calls)


@pytest.mark.database
def test_persistence_script_fails_when_data_is_lost(kubectl: tuple[Path, Path], pg_env: dict[str, str]) -> None:
    wrapper, state = kubectl
    result = _run("test-persistence.sh", wrapper, state, FAKE_LOSE_DATA="1", **pg_env)
    assert result.returncode == 1
    assert "FAIL" in result.stderr
    assert "PASS" not in result.stdout
