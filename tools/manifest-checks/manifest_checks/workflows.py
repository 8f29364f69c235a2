"""GitHub Actions workflow checks: the project's own rules, actionlint and zizmor."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .loader import load_file
from .model import Finding, Report

SHA_PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
DOCKER_DIGEST = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
UNTRUSTED = re.compile(r"\bgithub\s*\.\s*(event\b|head_ref\b)|\bgithub\s*\[\s*'(event|head_ref)'\s*\]")
WORKFLOW_SUFFIXES = (".yml", ".yaml")
KIND = "Workflow"


@dataclass(frozen=True)
class WorkflowViolation:
    message: str
    fix: str
    path: str = ""


WorkflowRule = Callable[[dict[str, Any]], list[WorkflowViolation]]
WORKFLOW_RULES: dict[str, WorkflowRule] = {}


def workflow_rule(rule_id: str):
    def register(fn: WorkflowRule) -> WorkflowRule:
        WORKFLOW_RULES[rule_id] = fn
        return fn

    return register


def _jobs(wf: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    jobs = wf.get("jobs")
    if isinstance(jobs, dict):
        for job_id, job in jobs.items():
            if isinstance(job, dict):
                yield str(job_id), job


def _steps(job: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    steps = job.get("steps")
    if isinstance(steps, list):
        for i, step in enumerate(steps):
            if isinstance(step, dict):
                yield i, step


def _step_label(job_id: str, i: int, step: dict[str, Any]) -> str:
    name = step.get("name") or step.get("id")
    return f"job '{job_id}' step {i + 1}" + (f" ({name})" if name else "")


def uses_problem(ref: Any) -> str | None:
    """Why a ``uses:`` value is not pinned, or None when it is fine."""
    if not isinstance(ref, str):
        return "has a non-string uses:"
    ref = ref.strip()
    if ref.startswith("./"):
        return None  # local action/workflow, versioned with this repository
    if ref.startswith("docker://"):
        return None if DOCKER_DIGEST.match(ref) else f"uses image {ref} without a sha256 digest"
    if SHA_PINNED.match(ref):
        return None
    return f"uses {ref}, which is not pinned to a full 40-character commit SHA"


@workflow_rule("workflow-pinned-uses")
def check_pinned_uses(wf: dict[str, Any]) -> list[WorkflowViolation]:
    out = []
    for job_id, job in _jobs(wf):
        if "uses" in job:
            problem = uses_problem(job["uses"])
            if problem:
                out.append(WorkflowViolation(f"job '{job_id}' {problem}",
                                             "pin to the commit SHA of the release: owner/repo/path@<40-hex-sha> "
                                             "# vX.Y.Z", f"jobs.{job_id}.uses"))
        for i, step in _steps(job):
            if "uses" in step:
                problem = uses_problem(step["uses"])
                if problem:
                    out.append(WorkflowViolation(f"{_step_label(job_id, i, step)} {problem}",
                                                 "pin to the commit SHA of the release: owner/repo@<40-hex-sha> "
                                                 "# vX.Y.Z", f"jobs.{job_id}.steps[{i}].uses"))
    return out


@workflow_rule("workflow-permissions")
def check_permissions(wf: dict[str, Any]) -> list[WorkflowViolation]:
    out = []
    if "permissions" not in wf:
        out.append(WorkflowViolation("no top-level permissions: the GITHUB_TOKEN gets the repository default "
                                     "(often write to everything)",
                                     "add a top-level `permissions: {contents: read}` (or `{}`) and grant more "
                                     "per job only where needed", "permissions"))
    elif wf.get("permissions") == "write-all":
        out.append(WorkflowViolation("top-level permissions is write-all",
                                     "grant only what is needed, e.g. `permissions: {contents: read}`",
                                     "permissions"))
    for job_id, job in _jobs(wf):
        if job.get("permissions") == "write-all":
            out.append(WorkflowViolation(f"job '{job_id}' has permissions: write-all",
                                         "list only the scopes the job needs, e.g. {contents: read, packages: write}",
                                         f"jobs.{job_id}.permissions"))
    return out


def _untrusted_expressions(script: str) -> list[str]:
    return [m.group(0) for m in EXPRESSION.finditer(script) if UNTRUSTED.search(m.group(1))]


@workflow_rule("workflow-script-injection")
def check_script_injection(wf: dict[str, Any]) -> list[WorkflowViolation]:
    out = []
    for job_id, job in _jobs(wf):
        for i, step in _steps(job):
            scripts: list[tuple[str, Any]] = [("run", step.get("run"))]
            if isinstance(step.get("uses"), str) and step["uses"].startswith("actions/github-script@"):
                scripts.append(("with.script", (step.get("with") or {}).get("script")))
            for where, script in scripts:
                if not isinstance(script, str):
                    continue
                for expr in _untrusted_expressions(script):
                    out.append(WorkflowViolation(
                        f"{_step_label(job_id, i, step)} expands {expr} inside {where}: attacker-controlled text "
                        "becomes code",
                        "pass the value through env: (e.g. env: {TITLE: " + expr + "}) and use \"$TITLE\" in the "
                        "script", f"jobs.{job_id}.steps[{i}].{where}"))
    return out


# ------------------------------------------------------------ external tools

def _cache_bin() -> Path:
    return Path(os.environ.get("GOLDEN_PATH_BIN") or Path.home() / ".cache" / "golden-path-portal" / "bin")


def find_actionlint() -> str | None:
    env = os.environ.get("ACTIONLINT")
    if env:
        return env if os.access(env, os.X_OK) else None
    cached = _cache_bin() / "actionlint"
    if os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which("actionlint")


def find_zizmor() -> str | None:
    env = os.environ.get("ZIZMOR")
    if env:
        return env if os.access(env, os.X_OK) else None
    beside = Path(sys.executable).parent / "zizmor"
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("zizmor")


def run_actionlint(files: list[Path], names: dict[str, str]) -> dict[str, list[Finding]]:
    """actionlint findings per file (key: str(path)). Shellcheck/pyflakes are off for reproducible results."""
    binary = find_actionlint()
    if binary is None:
        return {str(f): [Finding(str(f), KIND, names[str(f)], "actionlint", "actionlint binary not found",
                                 "run tools/manifest-checks/scripts/build-actionlint.sh (needs Go), or set "
                                 "ACTIONLINT=/path/to/actionlint")] for f in files}
    proc = subprocess.run([binary, "-format", "{{json .}}", "-no-color", "-shellcheck=", "-pyflakes=",
                           *map(str, files)], capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        msg = " ".join((proc.stderr or proc.stdout).split())[:500]
        return {str(f): [Finding(str(f), KIND, names[str(f)], "actionlint", f"actionlint failed to run: {msg}",
                                 "run actionlint by hand on the file to see the error")] for f in files}
    out: dict[str, list[Finding]] = {str(f): [] for f in files}
    errors = json.loads(proc.stdout or "[]") or []
    by_path = {os.path.normpath(str(f)): str(f) for f in files}
    for err in errors:
        key = by_path.get(os.path.normpath(err.get("filepath", "")), err.get("filepath", ""))
        out.setdefault(key, []).append(Finding(
            key, KIND, names.get(key, Path(key).stem), f"actionlint/{err.get('kind', 'error')}",
            f"line {err.get('line')}: {err.get('message')}", "see https://github.com/rhysd/actionlint/blob/main/docs/checks.md",
            err.get("line")))
    return out


def run_zizmor(files: list[Path], names: dict[str, str]) -> dict[str, list[Finding]]:
    """zizmor --offline findings per file (ignored findings are dropped)."""
    binary = find_zizmor()
    if binary is None:
        return {str(f): [Finding(str(f), KIND, names[str(f)], "zizmor", "zizmor not found",
                                 "install the pinned requirements (tools/manifest-checks/check.sh does) or set "
                                 "ZIZMOR=/path/to/zizmor")] for f in files}
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    proc = subprocess.run([binary, "--offline", "--no-exit-codes", "--no-progress", "--color", "never",
                           "--format", "json", *map(str, files)], capture_output=True, text=True, check=False,
                          env=env)
    if proc.returncode != 0:
        msg = " ".join((proc.stderr or proc.stdout).split())[-500:]
        return {str(f): [Finding(str(f), KIND, names[str(f)], "zizmor", f"zizmor failed to run: {msg}",
                                 "run `zizmor --offline FILE` by hand to see the error")] for f in files}
    out: dict[str, list[Finding]] = {str(f): [] for f in files}
    by_path = {os.path.normpath(str(f)): str(f) for f in files}
    for item in json.loads(proc.stdout or "[]"):
        if item.get("ignored"):
            continue
        locations = item.get("locations") or []
        primary = next((loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"),
                       locations[0] if locations else {})
        local = primary.get("symbolic", {}).get("key", {}).get("Local", {})
        raw_path = local.get("verbatim_path") or local.get("given_path") or ""
        key = by_path.get(os.path.normpath(raw_path), raw_path)
        row = primary.get("concrete", {}).get("location", {}).get("start_point", {}).get("row")
        line = row + 1 if isinstance(row, int) else None
        note = primary.get("symbolic", {}).get("annotation", "")
        severity = item.get("determinations", {}).get("severity", "")
        out.setdefault(key, []).append(Finding(
            key, KIND, names.get(key, Path(key).stem), f"zizmor/{item.get('ident')}",
            f"line {line}: {item.get('desc')}: {note} [{severity}]", f"see {item.get('url')}", line))
    return out


# -------------------------------------------------------------- entry point

def find_workflow_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(WORKFLOW_SUFFIXES)))
        else:
            missing.append(raw)
    return files, missing


def check_workflow_data(wf: Any, file: str = "<workflow>", name: str = "workflow") -> Report:
    """Run only the project's own workflow rules on a parsed workflow."""
    report = Report()
    if not isinstance(wf, dict):
        report.record([Finding(file, KIND, name, "workflow-yaml", "workflow is not a YAML mapping",
                               "a workflow needs on:, permissions: and jobs:")])
        return report
    for rule_id, fn in WORKFLOW_RULES.items():
        report.record([Finding(file, KIND, name, rule_id, v.message, v.fix, None, v.path) for v in fn(wf)])
    return report


def check_workflows(paths: list[str], *, external: bool = True) -> Report:
    files, missing = find_workflow_files(paths)
    report = Report()
    for m in missing:
        report.record([Finding(m, KIND, "?", "input", "workflow path does not exist", "pass an existing file or folder")])
    names: dict[str, str] = {}
    parsed: list[Path] = []
    for f in files:
        report.workflows += 1
        docs = load_file(f)
        errors = [d for d in docs if d.error]
        names[str(f)] = f.stem
        if errors or len(docs) != 1:
            msg = errors[0].error if errors else "a workflow file must hold exactly one YAML document"
            report.record([Finding(str(f), KIND, f.stem, "workflow-yaml", msg, "fix the YAML syntax",
                                   errors[0].line if errors else None)])
            continue
        data = docs[0].data
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            names[str(f)] = data["name"]
        report.merge(check_workflow_data(data, str(f), names[str(f)]))
        parsed.append(f)
    if external and parsed:
        for runner in (run_actionlint, run_zizmor):
            results = runner(parsed, names)
            for f in parsed:
                report.record(results.get(str(f), []))
            extra = set(results) - {str(f) for f in parsed}
            for key in sorted(extra):
                report.record(results[key])
    return report
