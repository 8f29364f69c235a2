"""deploy/demo (the demo workload platform/demo.sh applies) keeps its replicas through node
drains: every Deployment with 2+ replicas, or scaled by an HPA with minReplicas 2+, has a
PodDisruptionBudget that lets a drain through one pod at a time."""

import shutil

from manifest_checks import check_paths

from conftest import REPO_ROOT

DEMO = REPO_ROOT / "deploy" / "demo"
DISRUPTION_RULES = {"pod-disruption-budget", "pdb-allows-disruption"}
# The portal's own identities (cluster-scoped RBAC, another namespace) live beside the demo
# but are not part of its workload.
PORTAL_RBAC = "50-portal-rbac.yaml"


def demo_manifests(folder):
    return [str(p) for p in sorted(folder.glob("*.yaml")) if p.name != PORTAL_RBAC]


def disruption_findings(folder):
    report = check_paths(demo_manifests(folder))
    return [f for f in report.findings if f.rule in DISRUPTION_RULES]


def test_demo_workloads_have_disruption_budgets_that_let_drains_through():
    assert disruption_findings(DEMO) == []


def test_the_demo_without_its_budgets_fails(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("app"))
    budgets = [p for p in copy.glob("*.yaml") if "kind: PodDisruptionBudget" in p.read_text()]
    assert budgets
    for p in budgets:
        p.unlink()
    found = {(f.kind, f.name, f.rule) for f in disruption_findings(copy)}
    assert found == {("Deployment", name, "pod-disruption-budget")
                     for name in ("fastapi-demo", "demo-api-blue", "demo-api-green")}


def test_a_budget_the_hpa_floor_cannot_meet_fails(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("app"))
    pdb = copy / "33-pdb.yaml"
    # The HPA's minReplicas is 3: a budget that wants 3 available blocks every drain there.
    pdb.write_text(pdb.read_text().replace("maxUnavailable: 1", "minAvailable: 3"))
    found = {(f.kind, f.name, f.rule) for f in disruption_findings(copy)}
    assert found == {("PodDisruptionBudget", "fastapi-demo", "pdb-allows-disruption")}
