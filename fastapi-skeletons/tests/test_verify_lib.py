"""scripts/verify-lib.sh (every generated repository's verify.sh sources it), run for real
with bash against a small fake kubectl: counting, exit status, what lands in results.md,
missing prerequisites, timeouts, cleanup (port-forwards, on_exit) after every check.

The lib is sourced straight from the skeleton: it is wrapped in `{% raw %}` comments, so
the template renders it unchanged.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# VERIFY_LIB: another copy of the lib (to see these tests fail on a broken one).
LIB = Path(os.environ.get("VERIFY_LIB") or ROOT / "fastapi-skeletons" / "_shared" / "repo" / "scripts" / "verify-lib.sh")

# Understands exactly what the lib itself calls; `get broken` fails like a real error.
FAKE_KUBECTL = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_STATE/argv.log"
[[ "$1" == -n ]] && { ns="$2"; shift 2; }
case "$1 ${2:-}" in
  "version --request-timeout=10s") [[ "${FAKE_UNREACHABLE:-0}" == 1 ]] && exit 1; exit 0 ;;
  "version -o") echo '{"serverVersion": {"gitVersion": "v1.37.2"}}' ;;
  "config current-context") echo fake-context ;;
  "get namespace") [[ "$3" == demo ]] || { echo "namespaces \"$3\" not found" >&2; exit 1; } ;;
  "get broken") echo 'error: the server does not have a resource type "broken"' >&2; exit 1 ;;
  "port-forward "*)
    [[ "${FAKE_FORWARD_FAILS:-0}" == 1 ]] && { echo 'error: services "nope" not found' >&2; exit 1; }
    echo "Forwarding from 127.0.0.1:43210 -> 8000"
    echo "$$" >>"$FAKE_STATE/forward.pids"
    exec sleep 300 ;;
  *) echo "fake kubectl: unexpected call: $*" >&2; exit 3 ;;
esac
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "FAKE_STATE": str(state),
        "NAMESPACE": "demo",
        "VERIFY_OUT": str(tmp_path / "out"),
    }


def run_verify(env: dict[str, str], body: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A verify.sh as the repositories write it: set NAMESPACE, source the lib, checks."""
    script = f'set -euo pipefail\nsource "{LIB}"\n' + textwrap.dedent(body)
    return subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def results(env: dict[str, str]) -> tuple[list[list[str]], str]:
    out = Path(env["VERIFY_OUT"])
    rows = [line.split("\t") for line in (out / "results.tsv").read_text().splitlines()]
    return rows, (out / "results.md").read_text()


def test_the_lib_renders_unchanged() -> None:
    lines = LIB.read_text().splitlines()
    assert lines[1].startswith("# {% raw %}")
    assert lines[-1] == "# {% endraw %}"
    assert sum("{% raw %}" in line for line in lines) == 1
    assert os.access(LIB, os.X_OK), "the templates test wants every generated *.sh executable"


def test_passes_and_failures_are_counted_and_the_reasons_recorded(env: dict[str, str]) -> None:
    proc = run_verify(
        env,
        """
        ok() { note "evidence one"; note "evidence two"; }
        reason() { note "looked at it"; fail "wanted 3 | got 2"; }
        command_fails() { k get broken; echo "never printed"; }
        verify_begin "demo checks"
        requirement first "passes" ok
        requirement second "fails | with a reason" reason
        requirement third "a command fails" command_fails
        requirement fourth "still runs after failures" ok
        verify_end
        """,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows, md = results(env)
    assert [row[:2] for row in rows] == [["first", "PASS"], ["second", "FAIL"], ["third", "FAIL"], ["fourth", "PASS"]]
    assert "PASS first: passes" in proc.stdout
    assert "FAIL second: fails | with a reason" in proc.stdout
    assert "verify: 2 passed, 2 failed (second third)" in proc.stdout
    assert "**2 passed, 2 failed**" in md
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[2] == "| first: passes | PASS | evidence one; evidence two |"
    # A | in a title or a reason is escaped: the row still has its four cells.
    assert table[3] == r"| second: fails \| with a reason | FAIL | looked at it; wanted 3 \| got 2 |"
    assert all(len(line.replace(r"\|", "")) - len(line.replace(r"\|", "").replace("|", "")) == 4 for line in table)
    # set -e alone would end the check silently: the failing command is named.
    assert "kubectl -n demo get broken exited with 1" in table[4]
    assert "never printed" not in proc.stdout
    log = Path(env["VERIFY_OUT"], "logs", "third.log").read_text()
    assert 'the server does not have a resource type "broken"' in log


def test_all_passing_exits_zero(env: dict[str, str]) -> None:
    proc = run_verify(
        env,
        """
        verify_begin "demo"
        requirement one "passes" true
        verify_end
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows, md = results(env)
    assert rows == [["one", "PASS", "passes"]]
    assert "- namespace: `demo`" in md and "fake-context" in md and "v1.37.2" in md


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"NAMESPACE": ""}, "verify: NAMESPACE is not set"),
        ({"KUBECTL": "/nonexistent/kubectl"}, "verify: kubectl not found: install it or set KUBECTL"),
        ({"FAKE_UNREACHABLE": "1"}, "verify: kubectl cannot reach a cluster (context: fake-context)"),
        ({"NAMESPACE": "other"}, "verify: namespace other does not exist: deploy first"),
    ],
)
def test_a_missing_prerequisite_exits_2_with_a_clear_message(
    env: dict[str, str], change: dict[str, str], message: str
) -> None:
    proc = run_verify(
        {**env, **change},
        """
        verify_begin "demo"
        requirement one "never runs" true
        verify_end
        """,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "==> one" not in proc.stdout


def test_wait_for_times_out_with_a_message(env: dict[str, str]) -> None:
    started = time.monotonic()
    proc = run_verify(
        {**env, "VERIFY_TIMEOUT": "1"},
        """
        slow() { wait_for "the thing to happen" false; echo "never printed"; }
        quick() { n=0; ready() { n=$((n + 1)); ((n >= 2)); }; wait_for "the second try" ready; }
        verify_begin "demo"
        requirement slow "times out" slow
        requirement quick "succeeds on a retry" quick
        verify_end
        """,
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 1
    rows, md = results(env)
    assert [row[1] for row in rows] == ["FAIL", "PASS"]
    assert "timed out after 1s waiting for the thing to happen" in md
    assert "never printed" not in proc.stdout


def forward_pids(env: dict[str, str]) -> list[int]:
    path = Path(env["FAKE_STATE"], "forward.pids")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; /proc tells.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_port_forwards_end_with_their_check_passed_or_failed(env: dict[str, str]) -> None:
    proc = run_verify(
        env,
        """
        forward() { port_forward svc/web 80; note "url $FORWARD_URL"; ps -p "$(tail -n1 "$FAKE_STATE/forward.pids")" >/dev/null; }
        forward_then_fail() { port_forward svc/web 80; port_forward pod/web-0 8000; fail "after two forwards"; }
        verify_begin "demo"
        requirement one "forwards" forward
        requirement two "forwards, then fails" forward_then_fail
        verify_end
        """,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows, md = results(env)
    assert [row[1] for row in rows] == ["PASS", "FAIL"]
    assert "url http://127.0.0.1:43210" in md
    pids = forward_pids(env)
    assert len(pids) == 3
    assert [pid for pid in pids if alive(pid)] == []
    argv = Path(env["FAKE_STATE"], "argv.log").read_text()
    assert "-n demo port-forward --address 127.0.0.1 svc/web :80" in argv


def test_a_port_forward_that_cannot_start_fails_the_check(env: dict[str, str], tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = run_verify(
        {**env, "FAKE_FORWARD_FAILS": "1", "TMPDIR": str(scratch)},
        """
        verify_begin "demo"
        requirement one "forwards" port_forward svc/nope 80
        verify_end
        """,
    )
    assert proc.returncode == 1
    _, md = results(env)
    assert 'kubectl port-forward svc/nope: error: services "nope" not found' in md
    # The forward's log is removed on the way out, not left in /tmp.
    assert list(scratch.iterdir()) == []


def test_on_exit_restores_after_a_pass_and_a_failure_last_first(env: dict[str, str]) -> None:
    proc = run_verify(
        env,
        """
        record() { echo "$*" >>"$FAKE_STATE/restored"; }
        changes() { on_exit record "first registered" "x y"; on_exit record second; note "changed"; }
        changes_then_fails() { on_exit record third; fail "broke after changing"; }
        restore_fails() { on_exit false; on_exit record fourth; }
        verify_begin "demo"
        requirement one "passes" changes
        requirement two "fails" changes_then_fails
        requirement three "cannot restore" restore_fails
        verify_end
        """,
    )
    assert proc.returncode == 1
    restored = Path(env["FAKE_STATE"], "restored").read_text().splitlines()
    assert restored == ["second", "first registered x y", "third", "fourth"]
    rows, md = results(env)
    assert [row[1] for row in rows] == ["PASS", "FAIL", "FAIL"]
    assert "could not restore: false" in md


def test_ctrl_c_restores_ends_forwards_and_stops(env: dict[str, str]) -> None:
    script = f'set -euo pipefail\nsource "{LIB}"\n' + textwrap.dedent(
        """
        slow() { port_forward svc/web 80; on_exit touch "$FAKE_STATE/restored"; touch "$FAKE_STATE/started"; sleep 30; }
        verify_begin "demo"
        requirement slow "interrupted" slow
        requirement next "never runs" true
        verify_end
        """
    )
    proc = subprocess.Popen(
        ["bash", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started = Path(env["FAKE_STATE"], "started")
    deadline = time.monotonic() + 20
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
    output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130, output
    assert Path(env["FAKE_STATE"], "restored").exists()
    assert [pid for pid in forward_pids(env) if alive(pid)] == []
    assert "==> next" not in output
