import pytest

from manifest_checks import validate_document, validate_yaml
from manifest_checks.schema import SchemaError, available_versions, schema_dir

from conftest import clone, cronjob, deployment, service


@pytest.mark.parametrize("make", [deployment, cronjob, service])
def test_valid_objects_pass_strict_schema(make):
    assert validate_document(make()) == []


def test_unknown_field_is_an_error_in_strict_mode():
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"  # typo
    findings = validate_document(d)
    assert len(findings) == 1
    f = findings[0]
    assert f.rule == "schema" and f.kind == "Deployment" and f.name == "web"
    assert "imagePullPolcy" in f.message
    assert f.path == "spec.template.spec.containers[0]"
    assert "unknown field" in f.fix


def test_misplaced_field_under_metadata_is_an_error():
    d = deployment()
    d["metadata"]["replicas"] = 3
    assert [f.path for f in validate_document(d)] == ["metadata"]


def test_wrong_type_is_an_error():
    d = deployment()
    d["spec"]["replicas"] = "three"
    findings = validate_document(d)
    assert [f.path for f in findings] == ["spec.replicas"]


def test_every_error_of_a_document_is_reported():
    d = deployment()
    d["spec"]["replicas"] = "three"
    d["spec"]["template"]["spec"]["containers"][0]["bogus"] = 1
    d["spec"]["strategyy"] = {}
    assert len(validate_document(d)) == 3


def test_missing_required_field():
    d = deployment()
    del d["spec"]["selector"]
    findings = validate_document(d)
    assert any("selector" in f.message for f in findings)


def test_unknown_kind_or_api_version_fails_unless_skipped():
    d = deployment()
    d["apiVersion"] = "apps/v1beta1"  # removed long ago
    findings = validate_document(d)
    assert len(findings) == 1 and "no schema" in findings[0].message
    crd = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"}}
    assert len(validate_document(crd)) == 1
    assert validate_document(crd, skip_kinds=["ExternalSecret"]) == []


def test_missing_kind_and_name():
    assert validate_document({"metadata": {"name": "x"}})[0].message == "apiVersion and kind are required"
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    assert [f.message for f in validate_document(nameless)] == ["metadata.name is required"]
    assert validate_document(["not", "a", "mapping"])[0].rule == "schema"


def test_int_or_string_ports_and_quantities_are_accepted():
    d = deployment()
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["resources"]["requests"]["cpu"] = 1
    c["livenessProbe"]["httpGet"]["port"] = 8080
    assert validate_document(d) == []


def test_validate_yaml_multi_document_and_kustomization_skipped():
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: ok}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: bad}
dataa: {}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [a.yaml]
"""
    findings = validate_yaml(text, source="README.md#snippet-1")
    assert [(f.name, f.file, f.line) for f in findings] == [("bad", "README.md#snippet-1", 7)]


def test_validate_yaml_reports_syntax_errors_and_duplicate_keys():
    assert validate_yaml("a: [1, 2")[0].rule == "yaml"
    dup = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
    findings = validate_yaml(dup)
    assert len(findings) == 1 and findings[0].rule == "yaml" and "duplicate key 'name'" in findings[0].message


def test_kubernetes_version_selection():
    assert "1.37" in available_versions()
    assert schema_dir("v1.37.2").name.startswith("v1.37.")
    with pytest.raises(SchemaError):
        schema_dir("1.99")
    with pytest.raises(SchemaError):
        schema_dir("latest")


def test_older_version_rejects_newer_field():
    # Deployment's pod spec field `hostUsers` exists from 1.25; use a field that is newer than 1.30:
    # PodSpec.resources (pod-level resources) appeared in Kubernetes 1.32.
    d = deployment()
    d["spec"]["template"]["spec"]["resources"] = {"limits": {"memory": "1Gi"}}
    assert validate_document(d, "1.37") == []
    old = validate_document(clone(d), "1.30")
    assert len(old) == 1 and "resources" in old[0].message


# --- custom resources with a vendored schema (manifest_checks/crds/) ------------------------
def flux_kustomization():
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "web-dev", "namespace": "flux-system"},
        "spec": {"interval": "5m", "path": "./overlays/dev", "prune": True, "wait": True, "timeout": "3m",
                 "sourceRef": {"kind": "GitRepository", "name": "web"}},
    }


def argo_application():
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web-dev", "namespace": "argocd"},
        "spec": {"project": "default",
                 "source": {"repoURL": "https://github.com/acme/web.git", "targetRevision": "main", "path": "overlays/dev"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "web-dev"},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}},
    }


def git_repository():
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "https://github.com/acme/web.git", "ref": {"branch": "main"}},
    }


@pytest.mark.parametrize("make", [flux_kustomization, argo_application, git_repository])
def test_vendored_custom_resources_pass_their_crd_schema(make):
    assert validate_document(make()) == []


@pytest.mark.parametrize(
    ("make", "path", "value", "expected"),
    [
        (flux_kustomization, ["spec", "prunee"], True, "'prunee' was unexpected"),
        (flux_kustomization, ["spec", "interval"], 5, "is not of type 'string'"),
        (argo_application, ["spec", "syncPolicy", "automatd"], {}, "'automatd' was unexpected"),
        (git_repository, ["spec", "ref", "branchh"], "main", "'branchh' was unexpected"),
    ],
)
def test_a_custom_resource_is_checked_strictly(make, path, value, expected):
    doc = make()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    findings = validate_document(doc)
    assert [f.rule for f in findings] == ["schema"]
    assert expected in findings[0].message


def test_a_required_custom_resource_field_is_enforced():
    doc = flux_kustomization()
    del doc["spec"]["sourceRef"]
    assert "'sourceRef' is a required property" in validate_document(doc)[0].message


def test_a_custom_resource_without_a_vendored_schema_is_still_reported():
    doc = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"}, "spec": {}}
    assert "no schema for kind ExternalSecret" in validate_document(doc)[0].message
