"""Workflow lint: own rules (pure functions), then actionlint and zizmor on real files."""

from pathlib import Path

import pytest

from manifest_checks.workflows import (WORKFLOW_RULES, check_workflow_data, check_workflows, find_actionlint,
                                       find_zizmor, uses_problem)
from manifest_checks.loader import load_file

from conftest import FIXTURES, require_tool

GOOD = FIXTURES / "workflows" / "good"
BAD = FIXTURES / "workflows" / "bad"
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def good_workflow() -> dict:
    return load_file(GOOD / "ci.yml")[0].data


def own_rules(wf: dict) -> set[str]:
    return {f.rule for f in check_workflow_data(wf).findings}


def test_good_workflow_passes_own_rules():
    report = check_workflow_data(good_workflow())
    assert report.findings == [] and report.checks_passed == len(WORKFLOW_RULES)


@pytest.mark.parametrize("ref,ok", [
    (f"actions/checkout@{SHA}", True),
    (f"github/codeql-action/init@{SHA}", True),
    (f"org/repo/.github/workflows/build.yml@{SHA}", True),
    ("./.github/actions/setup", True),
    ("docker://alpine@sha256:" + "b" * 64, True),
    ("actions/checkout@v4", False),
    ("actions/checkout@main", False),
    (f"actions/checkout@{SHA[:12]}", False),
    (f"actions/checkout@{SHA.upper()}", False),
    ("docker://alpine:3.20", False),
    ("actions/checkout", False),
])
def test_uses_pinning(ref, ok):
    assert (uses_problem(ref) is None) == ok


def test_unpinned_step_and_reusable_workflow_fail():
    wf = good_workflow()
    wf["jobs"]["test"]["steps"][0]["uses"] = "actions/checkout@v4"
    assert own_rules(wf) == {"workflow-pinned-uses"}
    wf = good_workflow()
    wf["jobs"]["call"] = {"uses": "org/repo/.github/workflows/build.yml@main"}
    findings = check_workflow_data(wf).findings
    assert [f.path for f in findings] == ["jobs.call.uses"]


def test_missing_or_write_all_permissions_fail():
    wf = good_workflow()
    del wf["permissions"]
    assert own_rules(wf) == {"workflow-permissions"}
    wf["permissions"] = "write-all"
    assert own_rules(wf) == {"workflow-permissions"}
    wf["permissions"] = {}
    assert own_rules(wf) == set()
    wf["jobs"]["test"]["permissions"] = "write-all"
    assert own_rules(wf) == {"workflow-permissions"}


@pytest.mark.parametrize("script", [
    "echo ${{ github.event.pull_request.title }}",
    "echo ${{github.event.issue.body}}",
    "git checkout ${{ github.head_ref }}",
    "echo ${{ format('{0}', github.event.comment.body) }}",
])
def test_untrusted_expression_in_run_fails(script):
    wf = good_workflow()
    wf["jobs"]["test"]["steps"][2]["run"] = script
    findings = check_workflow_data(wf).findings
    assert [f.rule for f in findings] == ["workflow-script-injection"]
    assert "env:" in findings[0].fix


def test_github_script_injection_fails_and_safe_expressions_pass():
    wf = good_workflow()
    wf["jobs"]["test"]["steps"][2]["run"] = "echo ${{ github.sha }} ${{ github.ref_name }} ${{ matrix.os }}"
    assert own_rules(wf) == set()
    wf["jobs"]["test"]["steps"].append({"uses": f"actions/github-script@{SHA}",
                                        "with": {"script": "core.info('${{ github.event.issue.title }}')"}})
    assert own_rules(wf) == {"workflow-script-injection"}


def test_non_mapping_workflow():
    assert own_rules(["not", "a", "workflow"]) == {"workflow-yaml"}


# ----------------------------------------------------------- real files, tools

def test_bad_fixture_files_fail_own_rules_without_tools():
    by_file = {}
    for f in check_workflows([str(BAD)], external=False).findings:
        by_file.setdefault(Path(f.file).name, set()).add(f.rule)
    assert by_file == {"unpinned.yml": {"workflow-pinned-uses"}, "injection.yml": {"workflow-script-injection"}}


def test_actionlint_flags_a_broken_workflow():
    require_tool(find_actionlint(), "actionlint")
    report = check_workflows([str(BAD / "broken.yml")])
    rules = {f.rule for f in report.findings}
    assert "actionlint/syntax-check" in rules  # unknown-key
    assert "actionlint/expression" in rules  # matrix.not_defined
    assert all(f.line for f in report.findings if f.rule.startswith("actionlint/"))


def test_zizmor_flags_template_injection():
    require_tool(find_zizmor(), "zizmor")
    report = check_workflows([str(BAD / "injection.yml")])
    rules = {f.rule for f in report.findings}
    assert "zizmor/template-injection" in rules
    assert "workflow-script-injection" in rules


def test_good_workflow_passes_all_tools():
    require_tool(find_actionlint(), "actionlint")
    require_tool(find_zizmor(), "zizmor")
    report = check_workflows([str(GOOD)])
    assert report.findings == [], "\n".join(f.render() for f in report.findings)
    assert report.workflows == 1 and report.checks_passed == len(WORKFLOW_RULES) + 2


def test_missing_actionlint_is_a_failure_not_a_silent_pass(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTIONLINT", str(tmp_path / "nope"))
    report = check_workflows([str(GOOD)])
    assert [f.rule for f in report.findings if f.rule == "actionlint"] == ["actionlint"]
    assert "build-actionlint.sh" in report.findings[0].fix
