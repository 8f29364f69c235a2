"""Every ```yaml block in docs/ is a real Kubernetes object (strict schema), or is marked.

Run: tools/techdocs/run-tests.sh   (or: <venv>/bin/pytest tools/techdocs)
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

import snippets as sn

ALL = sn.extract()


def test_docs_have_snippets_and_report_counts(capsys):
    report = sn.validate_all()
    counts = report.counts()
    with capsys.disabled():
        print(f"\n[snippets] {len(report.snippets)} yaml blocks: "
              + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
              + f"; {len(report.objects)} complete objects validated in strict mode against "
              + ", ".join(sn.TARGET_VERSIONS))
        for s in report.snippets:
            if s.kind != "kubernetes":
                extra = f" in={s.args['in']}" if "in" in s.args else ""
                print(f"[snippets]   marked {s.kind}{extra}: {s.where}")
    assert report.errors == []
    # The theory pages alone carry more than 20 complete examples; a collapse of the
    # extractor (e.g. a regex change that finds nothing) must not pass silently.
    assert counts["kubernetes"] >= 20
    assert len(report.objects) >= counts["kubernetes"]


@pytest.mark.parametrize("snippet", ALL, ids=[s.id for s in ALL])
def test_snippet_is_valid(snippet):
    sn.validate_snippet(snippet)


# ----------------------------------------------------------------- the validator can fail

GOOD_DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 3
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: registry.example.com/web:1.0.0
    """)


def _one(md: str) -> sn.Snippet:
    found = sn.extract_from_text(md, Path("docs/example.md"))
    assert len(found) == 1
    return found[0]


def test_good_object_passes():
    objs = sn.validate_snippet(_one(f"```yaml\n{GOOD_DEPLOYMENT}```\n"))
    assert [o["kind"] for o in objs] == ["Deployment"]


def test_unknown_field_fails_in_strict_mode_only():
    bad = GOOD_DEPLOYMENT.replace("  replicas: 3", "  replica: 3")
    with pytest.raises(sn.SnippetError, match=r"(?i)additional properties.*replica"):
        sn.validate_snippet(_one(f"```yaml\n{bad}```\n"))
    # the same object passes the non-strict schema: strict mode is what catches it
    sn.validate_object(yaml.safe_load(bad), "non-strict", strict=False)


def test_nested_unknown_field_fails():
    bad = re.sub(r"^( *)image:", r"\1imagePullPolicyy: Always\n\1image:", GOOD_DEPLOYMENT, flags=re.M)
    with pytest.raises(sn.SnippetError, match="imagePullPolicyy"):
        sn.validate_snippet(_one(f"```yaml\n{bad}```\n"))


def test_wrong_type_fails():
    bad = GOOD_DEPLOYMENT.replace("replicas: 3", "replicas: three")
    with pytest.raises(sn.SnippetError, match=r"spec\.replicas.*three"):
        sn.validate_snippet(_one(f"```yaml\n{bad}```\n"))


def test_removed_api_version_fails():
    bad = GOOD_DEPLOYMENT.replace("apps/v1", "extensions/v1beta1")
    with pytest.raises(sn.SnippetError, match="Couldn't find schema"):
        sn.validate_snippet(_one(f"```yaml\n{bad}```\n"))


def test_second_document_is_validated_too():
    bad = GOOD_DEPLOYMENT + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {portz: []}\n"
    with pytest.raises(sn.SnippetError, match=r"document 2.*portz"):
        sn.validate_snippet(_one(f"```yaml\n{bad}```\n"))


def test_unmarked_fragment_fails_and_marked_fragment_is_validated_in_context():
    fragment = "resources:\n  requests: {cpu: 100m, memory: 128Mi}\n  limits: {memory: 256Mi}\n"
    with pytest.raises(sn.SnippetError, match="not a Kubernetes object"):
        sn.validate_snippet(_one(f"```yaml\n{fragment}```\n"))
    sn.validate_snippet(_one(f"<!-- snippet: partial in=container -->\n```yaml\n{fragment}```\n"))
    bad_fragment = fragment.replace("limits:", "limitz:")
    with pytest.raises(sn.SnippetError, match="limitz"):
        sn.validate_snippet(_one(f"<!-- snippet: partial in=container -->\n```yaml\n{bad_fragment}```\n"))


def test_yaml_only_partial_must_still_parse():
    sn.validate_snippet(_one("<!-- snippet: partial -->\n```yaml\nspec:\n  replicas: 3\n```\n"))
    with pytest.raises(sn.SnippetError, match="not valid YAML"):
        sn.validate_snippet(_one("<!-- snippet: partial -->\n```yaml\nspec: [unclosed\n```\n"))


def test_crd_needs_group_kind_and_name():
    ok = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\n"
    sn.validate_snippet(_one(f"<!-- snippet: crd -->\n```yaml\n{ok}```\n"))
    with pytest.raises(sn.SnippetError, match="custom resource"):
        sn.validate_snippet(_one("<!-- snippet: crd -->\n```yaml\nkind: Application\n```\n"))


@pytest.mark.parametrize("md, message", [
    ("<!-- snippet: partal -->\n```yaml\na: 1\n```\n", "unknown snippet kind"),
    ("<!-- snippet: partial in=nowhere -->\n```yaml\na: 1\n```\n", "in=nowhere"),
    ("<!-- snippet: crd in=container -->\n```yaml\na: 1\n```\n", "needs kind 'partial'"),
    ("<!-- snippet: partial -->\n\nSome prose.\n\n```yaml\na: 1\n```\n", "directly above"),
    ("<!-- snippet: partial -->\n```bash\nkubectl get pods\n```\n", "not a ```yaml fence"),
    ("text\n<!-- snippet: partial -->\n", "not followed by"),
    ("```yaml\na: 1\n", "never closed"),
])
def test_marker_mistakes_are_errors(md, message):
    with pytest.raises(sn.SnippetError, match=message):
        sn.extract_from_text(md, Path("docs/example.md"))


def test_indented_fences_in_lists_and_admonitions_are_found():
    md = "1. Apply it:\n\n    ```yaml\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: x\n    ```\n"
    snippet = _one(md)
    assert snippet.line == 3
    assert sn.validate_snippet(snippet)[0]["metadata"]["name"] == "x"


def test_cli_fails_on_a_bad_docs_tree(tmp_path, capsys):
    (tmp_path / "page.md").write_text(f"# Page\n\n```yaml\n{GOOD_DEPLOYMENT.replace('replicas: 3', 'replicas: -x')}```\n")
    assert sn.main(["--docs", str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().err


# ----------------------------------------------------------------- export

def test_export_writes_apply_ready_files(tmp_path):
    md = ("```yaml\n" + GOOD_DEPLOYMENT.replace("name: web\nspec", "name: web\n  namespace: shop\nspec")
          + "```\n\n```yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n```\n")
    report_objects = [(s, o) for s in sn.extract_from_text(md, Path("docs/x.md")) for o in sn.validate_snippet(s)]
    files = sn.export(report_objects, tmp_path / "out")
    assert [f.name for f in files] == ["000-namespaces.yaml", "001-deployment-web.yaml"]
    namespaces = [d["metadata"]["name"] for d in yaml.safe_load_all(files[0].read_text())]
    assert namespaces == ["other", "shop"]          # defined first, then the one only used
    assert yaml.safe_load(files[1].read_text())["metadata"]["namespace"] == "shop"


def test_export_of_the_real_docs(tmp_path):
    report = sn.validate_all()
    files = sn.export(report.objects, tmp_path)
    non_ns = [o for _, o in report.objects if o["kind"] != "Namespace"]
    assert len([f for f in files if not f.name.startswith("000-")]) == len(non_ns)
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            sn.validate_object(doc, str(f))


def test_export_workloads_strips_namespaces_and_keeps_only_workloads(tmp_path):
    report = sn.validate_all()
    files = sn.export_workloads(report.objects, tmp_path)
    kinds = [yaml.safe_load(f.read_text())["kind"] for f in files]
    assert kinds and set(kinds) <= sn.WORKLOAD_KINDS
    assert all("namespace" not in yaml.safe_load(f.read_text())["metadata"] for f in files)
    assert len(files) == sum(1 for _, o in report.objects if o["kind"] in sn.WORKLOAD_KINDS)
