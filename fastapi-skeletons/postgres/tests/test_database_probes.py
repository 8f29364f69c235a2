"""The PostgreSQL container's probes (k8s/postgres-deployment.yaml) each do their own job.

Each probe's shell command runs here against stand-ins for pg_isready and psql, so the
tests check what the commands do, not how they are spelled.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _container() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((ROOT / "k8s" / "postgres-deployment.yaml").read_text()))
    deployment = next(d for d in docs if d and d["kind"] == "Deployment")
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "postgres")


def _run_probe(probe: str, tmp_path: Path, pg_isready: int = 0, psql: int = 0) -> tuple[int, list[list[str]]]:
    """Runs the probe's command with fake pg_isready/psql that exit with the given codes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls.jsonl"
    for tool, code in (("pg_isready", pg_isready), ("psql", psql)):
        fake = bin_dir / tool
        fake.write_text(
            "#!/usr/bin/env python3\nimport json, os, sys\n"
            f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv + [os.environ.get('PGPASSWORD', '')]) + '\\n')\n"
            f"sys.exit({code})\n"
        )
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    command = _container()[probe]["exec"]["command"]
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "POSTGRES_USER": "app_user",
        "POSTGRES_DB": "app_db",
        "POSTGRES_PASSWORD": "the-password-from-the-secret",
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    seen = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    calls.unlink(missing_ok=True)
    return result.returncode, seen


def test_the_three_probes_are_different_commands() -> None:
    container = _container()
    commands = [json.dumps(container[p]["exec"]["command"]) for p in ("startupProbe", "livenessProbe", "readinessProbe")]
    assert commands[1] != commands[2], "liveness and readiness must not be the same check"
    assert len(set(commands)) == 3


def test_the_startup_probe_allows_initdb_and_crash_recovery() -> None:
    startup = _container()["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600


@pytest.mark.parametrize(
    ("pg_isready", "alive"),
    [(0, True), (1, True), (2, False), (3, False)],
    ids=["accepting", "rejecting-while-recovering", "no-answer", "bad-parameters"],
)
def test_liveness_only_fails_when_the_server_does_not_answer(tmp_path: Path, pg_isready: int, alive: bool) -> None:
    code, calls = _run_probe("livenessProbe", tmp_path, pg_isready=pg_isready)
    assert (code == 0) is alive
    assert [call[0].rsplit("/", 1)[-1] for call in calls] == ["pg_isready"]


def test_liveness_is_generous() -> None:
    liveness = _container()["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60


@pytest.mark.parametrize(("psql", "ready"), [(0, True), (1, False), (2, False)])
def test_readiness_runs_a_query_as_the_apps_user_in_the_apps_database(tmp_path: Path, psql: int, ready: bool) -> None:
    code, calls = _run_probe("readinessProbe", tmp_path, psql=psql)
    assert (code == 0) is ready
    (call,) = [c for c in calls if c[0].endswith("psql")]
    args = call[1:-1]
    assert args[args.index("-U") + 1] == "app_user"
    assert args[args.index("-d") + 1] == "app_db"
    assert "-c" in args
    # The password reaches psql through its environment, never its command line.
    assert call[-1] == "the-password-from-the-secret"
    assert "the-password-from-the-secret" not in args


def test_the_startup_probe_waits_for_connections(tmp_path: Path) -> None:
    assert _run_probe("startupProbe", tmp_path, pg_isready=0)[0] == 0
    assert _run_probe("startupProbe", tmp_path, pg_isready=1)[0] != 0
