import textwrap
from pathlib import Path

import pytest
import yaml

from manifest_checks import check_paths
from manifest_checks.catalog import CatalogError, read_catalog_info
from manifest_checks.kustomize import check_kustomization

from conftest import ID, NS, deployment, pdb, service


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def catalog(tmp_path: Path, annotations: dict) -> Path:
    doc = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
           "metadata": {"name": "web", "annotations": annotations},
           "spec": {"type": "service", "owner": "team", "lifecycle": "production"}}
    api = {"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "web-api"}}
    return write(tmp_path / "catalog-info.yaml", yaml.safe_dump_all([api, doc]))


def test_catalog_info_gives_id_and_namespace(tmp_path):
    c = catalog(tmp_path, {"backstage.io/kubernetes-id": ID, "backstage.io/kubernetes-namespace": NS})
    exp = read_catalog_info(str(c))
    assert (exp.component, exp.kubernetes_id, exp.namespace) == ("web", ID, NS)
    assert exp.entity_ref == "component:default/web"


def test_catalog_info_without_annotation_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="backstage.io/kubernetes-id"):
        read_catalog_info(str(catalog(tmp_path, {})))
    with pytest.raises(CatalogError, match="cannot read"):
        read_catalog_info(str(tmp_path / "missing.yaml"))


def test_check_paths_uses_catalog_expectations(tmp_path):
    c = catalog(tmp_path, {"backstage.io/kubernetes-id": ID, "backstage.io/kubernetes-namespace": NS})
    good = deployment()
    bad = deployment()
    bad["metadata"]["name"] = "other"
    bad["metadata"]["namespace"] = "default"
    bad["metadata"]["labels"]["backstage.io/kubernetes-id"] = "nope"
    m = write(tmp_path / "m" / "all.yaml", yaml.safe_dump_all([good, bad]))
    report = check_paths([str(m)], catalog_info=str(c))
    assert sorted((f.name, f.rule) for f in report.findings) == [
        ("other", "backstage-kubernetes-id"), ("other", "catalog-namespace")]
    broken = catalog(tmp_path / "x", {})
    report = check_paths([str(m)], catalog_info=str(broken))
    assert "catalog-info" in {f.rule for f in report.findings}


def system_catalog(tmp_path: Path, selectors: dict[str, str]) -> Path:
    system = {"apiVersion": "backstage.io/v1alpha1", "kind": "System",
              "metadata": {"name": "shop", "annotations": {"backstage.io/kubernetes-id": ID,
                                                           "backstage.io/kubernetes-namespace": NS}},
              "spec": {"owner": "team"}}
    components = [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                   "metadata": {"name": name, "annotations": {"backstage.io/kubernetes-label-selector": selector}},
                   "spec": {"type": "service", "owner": "team", "lifecycle": "production", "system": "shop"}}
                  for name, selector in selectors.items()]
    return write(tmp_path / "catalog-info.yaml", yaml.safe_dump_all([system, *components]))


def test_a_system_of_components_each_selecting_its_own_objects(tmp_path):
    c = system_catalog(tmp_path, {"web": "app.kubernetes.io/name=web", "api": "app.kubernetes.io/name=api"})
    exp = read_catalog_info(str(c))
    assert (exp.component, exp.kubernetes_id, exp.namespace) == ("shop", ID, NS)
    assert exp.component_selectors == (((("app.kubernetes.io/name", "web"),), "component:default/web"),
                                       ((("app.kubernetes.io/name", "api"),), "component:default/api"))
    web = deployment()
    web["metadata"]["labels"]["app.kubernetes.io/name"] = "web"
    web["metadata"]["annotations"] = {"rollouts.backstage.io/entity-ref": "component:default/web"}
    wrong = deployment()
    wrong["metadata"]["name"] = "api"
    wrong["metadata"]["labels"]["app.kubernetes.io/name"] = "api"
    wrong["metadata"]["annotations"] = {"rollouts.backstage.io/entity-ref": "component:default/web"}
    orphan = deployment()
    orphan["metadata"]["name"] = "orphan"
    orphan["metadata"]["labels"]["app.kubernetes.io/name"] = "orphan"
    orphan["metadata"]["annotations"] = {"rollouts.backstage.io/entity-ref": "component:default/web"}
    m = write(tmp_path / "m" / "all.yaml", yaml.safe_dump_all([web, wrong, orphan]))
    findings = [(f.name, f.message) for f in check_paths([str(m)], catalog_info=str(c)).findings
                if f.rule == "rollouts-entity-ref"]
    assert [name for name, _ in findings] == ["api", "orphan"]
    assert "catalog-info describes 'component:default/api'" in findings[0][1]
    assert "no Component of catalog-info selects this object" in findings[1][1]


def test_a_system_component_without_an_equality_selector_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="needs an annotation backstage.io/kubernetes-label-selector"):
        read_catalog_info(str(system_catalog(tmp_path, {"web": "app in (web)"})))


def test_kustomization_listed_files_and_namespace_default(tmp_path):
    d = deployment()
    del d["metadata"]["namespace"]
    write(tmp_path / "app" / "deployment.yaml", yaml.safe_dump(d))
    write(tmp_path / "app" / "kustomization.yaml", f"""\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: {NS}
        resources:
          - deployment.yaml
    """)
    c = catalog(tmp_path, {"backstage.io/kubernetes-id": ID, "backstage.io/kubernetes-namespace": NS})
    report = check_paths([str(tmp_path / "app")], catalog_info=str(c))
    assert report.findings == []
    assert report.objects == 1  # the kustomization is not a Kubernetes object


def test_kustomization_problems(tmp_path):
    write(tmp_path / "deployment.yaml", yaml.safe_dump(deployment()))
    write(tmp_path / "forgotten.yaml", yaml.safe_dump(service()))
    k = write(tmp_path / "kustomization.yaml", """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - deployment.yaml
          - missing.yaml
          - https://github.com/org/repo/deploy?ref=main
    """)
    messages = [f.message for f in check_kustomization(k).findings]
    assert len(messages) == 3
    assert any("missing.yaml" in m and "does not exist" in m for m in messages)
    assert any("remote resource" in m for m in messages)
    assert any("forgotten.yaml" in m and "not listed" in m for m in messages)
    write(k, "kind: Component\nresources: foo\n")
    messages = [f.message for f in check_kustomization(k).findings]
    assert "kind is 'Component', expected Kustomization" in messages
    assert "resources must be a list of paths" in messages


def test_duplicate_objects_across_files(tmp_path):
    write(tmp_path / "a.yaml", yaml.safe_dump(service()))
    write(tmp_path / "b.yml", yaml.safe_dump(service()))
    report = check_paths([str(tmp_path)])
    assert [f.rule for f in report.findings] == ["duplicate-object"]


def test_list_kind_is_expanded_and_yaml_errors_reported(tmp_path):
    lst = {"apiVersion": "v1", "kind": "List", "items": [service(), deployment()]}
    write(tmp_path / "list.yaml", yaml.safe_dump(lst))
    write(tmp_path / "broken.yaml", "apiVersion: v1\nkind: [oops\n")
    report = check_paths([str(tmp_path)])
    assert report.objects == 2
    assert [(Path(f.file).name, f.rule) for f in report.findings] == [("broken.yaml", "yaml")]


def test_missing_path_is_a_finding(tmp_path):
    report = check_paths([str(tmp_path / "nope")])
    assert [f.rule for f in report.findings] == ["input"]


def test_disruption_budget_rules_see_every_file_of_the_run_and_the_kustomization_namespace(tmp_path):
    """The workload and its budget live in different files; the namespace comes from the kustomization."""
    d, budget = deployment(3), pdb()
    for obj in (d, budget):
        del obj["metadata"]["namespace"]
    write(tmp_path / "app" / "deployment.yaml", yaml.safe_dump(d))
    write(tmp_path / "app" / "pdb.yaml", yaml.safe_dump(budget))
    kustomization = write(tmp_path / "app" / "kustomization.yaml", f"""\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: {NS}
        resources:
          - deployment.yaml
          - pdb.yaml
    """)
    assert check_paths([str(tmp_path / "app")]).findings == []

    # Without the budget the Deployment fails; a budget in another namespace does not count.
    kustomization.write_text(kustomization.read_text().replace("  - pdb.yaml\n", ""))
    (tmp_path / "app" / "pdb.yaml").rename(tmp_path / "pdb.yaml")
    budget["metadata"]["namespace"] = "elsewhere"
    write(tmp_path / "other" / "pdb.yaml", yaml.safe_dump(budget))
    report = check_paths([str(tmp_path / "app"), str(tmp_path / "other")])
    assert [(f.kind, f.rule) for f in report.findings] == [("Deployment", "pod-disruption-budget")]

    # A budget that can never be met is reported on the budget.
    write(tmp_path / "app" / "pdb.yaml", yaml.safe_dump(pdb(minAvailable=3)))
    kustomization.write_text(kustomization.read_text() + "  - pdb.yaml\n")
    report = check_paths([str(tmp_path / "app")])
    assert [(f.kind, f.rule) for f in report.findings] == [("PodDisruptionBudget", "pdb-allows-disruption")]
