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
