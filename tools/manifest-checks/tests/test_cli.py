"""The command line as other stages use it: output format, --json, exit codes."""

import json
import os
import subprocess
import sys

import yaml

from conftest import MC_DIR, deployment


def run(*args, stdin=None):
    env = {**os.environ, "PYTHONPATH": str(MC_DIR)}
    return subprocess.run([sys.executable, "-m", "manifest_checks", *args], capture_output=True, text=True,
                          input=stdin, env=env, cwd=MC_DIR, check=False)


def bad_deployment():
    d = deployment()
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["image"] = "nginx:latest"
    c["securityContext"]["privileged"] = True
    c["imagePullPolcy"] = "Always"
    return d


def test_good_manifest_exits_0_with_summary(tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text(yaml.safe_dump(deployment()))
    proc = run(str(f))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("manifest-checks: OK: ") and " 0 checks failed" in last


def test_bad_manifest_exits_1_with_one_line_per_finding(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad_deployment()))
    proc = run(str(f))
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert f"{f}: Deployment/web: image-tag: container 'web' uses the mutable tag :latest" in proc.stdout
    rules = {line.split(": ")[2] for line in lines[:-1]}
    assert rules == {"image-tag", "no-privileged", "schema"}
    assert all("(fix: " in line for line in lines[:-1])
    assert lines[-1].startswith("manifest-checks: FAILED: ") and "3 checks failed" in lines[-1]


def test_json_output(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad_deployment()))
    proc = run("--json", str(f))
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    assert data["summary"]["checks_failed"] == 3 and data["summary"]["objects"] == 1
    assert {x["rule"] for x in data["findings"]} == {"image-tag", "no-privileged", "schema"}
    assert all({"file", "kind", "name", "rule", "message", "fix", "line"} <= set(x) for x in data["findings"])


def test_schema_only_ignores_policy_and_reads_stdin():
    proc = run("--schema-only", "-", stdin=yaml.safe_dump(bad_deployment()))
    assert proc.returncode == 1
    finding_lines = proc.stdout.strip().splitlines()[:-1]
    assert len(finding_lines) == 1 and "<stdin>: Deployment/web: schema: " in finding_lines[0]
    d = bad_deployment()
    del d["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"]
    assert run("--schema-only", "-", stdin=yaml.safe_dump(d)).returncode == 0


def test_allow_external_option(tmp_path):
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "frontend", "labels": {"backstage.io/kubernetes-id": "x"},
                        "annotations": {"rollouts.backstage.io/entity-ref": "component:default/x"}},
           "spec": {"type": "LoadBalancer", "selector": {"a": "b"}, "ports": [{"port": 80}]}}
    f = tmp_path / "svc.yaml"
    f.write_text(yaml.safe_dump(svc))
    assert run(str(f)).returncode == 1
    assert run("--allow-external", "db,frontend", str(f)).returncode == 0


def test_usage_errors_exit_2(tmp_path):
    assert run().returncode == 2
    (tmp_path / "notes.txt").write_text("hi")
    proc = run(str(tmp_path))
    assert proc.returncode == 2 and "no YAML files" in proc.stderr
    proc = run("--kubernetes-version", "1.99", str(tmp_path))
    assert proc.returncode == 2 and "1.37" in proc.stderr


def test_list_rules_names_every_rule():
    proc = run("--list-rules")
    from manifest_checks import POLICY_RULES, WORKFLOW_RULES
    ids = {line.split(":")[0] for line in proc.stdout.splitlines()}
    assert set(POLICY_RULES) | set(WORKFLOW_RULES) <= ids


def test_check_sh_wrapper_end_to_end(tmp_path):
    """check.sh (what other stages call) ensures the venv and runs the CLI with the same exit codes."""
    from manifest_checks.workflows import find_actionlint
    from conftest import FIXTURES, require_tool
    env = {**os.environ, "ACTIONLINT": require_tool(find_actionlint(), "actionlint")}
    check = str(MC_DIR / "check.sh")
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(deployment()))
    ok = subprocess.run(["bash", check, "--workflows", str(FIXTURES / "workflows" / "good"), str(good)],
                        capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 workflows" in ok.stdout
    bad = subprocess.run(["bash", check, "--workflows", str(FIXTURES / "workflows" / "bad"), str(good)],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1
    assert "workflow-pinned-uses" in bad.stdout and "actionlint/syntax-check" in bad.stdout
