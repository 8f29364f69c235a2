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


# ----------------------------------------------------------------- workload rules: examples that cannot work

def _ambassador(extra_args: str, ports_and_probe: str) -> str:
    return textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: billing-worker
        spec:
          initContainers:
            - name: db-proxy
              image: ghcr.io/example/pg-tls-proxy:2.1.0
              restartPolicy: Always
              args: ['--listen=127.0.0.1:5432', EXTRA'--upstream=postgres.db.svc.cluster.local:5432']
        PROBE
          containers:
            - name: worker
              image: ghcr.io/example/billing-worker:3.2.0
        """).replace("EXTRA", extra_args).replace("PROBE\n", textwrap.indent(ports_and_probe, " " * 6))


# Q2 as it was: the proxy listens on loopback, the kubelet dials the Pod IP.
AMBASSADOR_BAD = _ambassador("", "startupProbe:\n  tcpSocket:\n    port: 5432\n")
# The corrected example of Q2: the database port stays on loopback, the probe gets its own port.
AMBASSADOR_GOOD = _ambassador("'--health-listen=0.0.0.0:9090', ",
                              "ports:\n  - {name: health, containerPort: 9090}\n"
                              "startupProbe:\n  httpGet: {path: /ready, port: health}\n")


def _check(text: str, marker: str = "") -> list[dict]:
    return sn.validate_snippet(_one(f"{marker}```yaml\n{text}```\n"))


def test_probe_on_a_loopback_listener_fails_and_the_health_port_passes():
    with pytest.raises(sn.SnippetError, match=r"binds it to loopback \(--listen 127\.0\.0\.1:5432\)"):
        _check(AMBASSADOR_BAD)
    with pytest.raises(sn.SnippetError, match="no container of the Pod declares"):
        _check(AMBASSADOR_BAD)
    assert _check(AMBASSADOR_GOOD)[0]["kind"] == "Pod"


def _web(port: str = "http", args: str = "args: ['--host', '0.0.0.0', '--port', '8000']",
         pod_extra: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          {pod_extra or 'restartPolicy: Always'}
          containers:
            - name: web
              image: ghcr.io/example/web:1.0.0
              {args}
              ports:
                - {{name: http, containerPort: 8000}}
              readinessProbe:
                httpGet: {{path: /ready, port: {port}}}
        """)


@pytest.mark.parametrize("port, args, message", [
    ("8080", None, "dials port 8080, which no container of the Pod declares"),
    ("htp", None, "port name 'htp', which is not in this container's ports"),
    ("http", "args: ['--host', '127.0.0.1', '--port', '8000']", r"--host 127\.0\.0\.1 --port 8000"),
    ("8000", "command: ['sh', '-c', 'exec uvicorn app:app --host=localhost --port=8000']", "--host localhost"),
    ("http", "args: ['-b', '127.0.0.1:8000']", r"-b 127\.0\.0\.1:8000"),
    ("http", "env: [{name: LISTEN_ADDR, value: '127.0.0.1:8000'}]", r"LISTEN_ADDR=127\.0\.0\.1:8000"),
])
def test_probe_rules_fail_on_unreachable_ports(port, args, message):
    with pytest.raises(sn.SnippetError, match=message):
        _check(_web(port, args or "args: []"))


@pytest.mark.parametrize("port, args", [
    ("http", "args: ['--host', '0.0.0.0', '--port', '8000']"),
    ("8000", "command: ['sh', '-c', 'exec uvicorn app:app --host 0.0.0.0 --port 8000']"),
    ("http", "env: [{name: DATABASE_HOST, value: '127.0.0.1'}, {name: DATABASE_PORT, value: '8000'}]"),  # a client
    ("http", "args: ['--upstream=127.0.0.1:8000']"),  # not a listen flag
])
def test_probe_rules_pass_on_reachable_ports(port, args):
    _check(_web(port, args))


def test_probe_host_on_loopback_is_the_nodes_loopback():
    bad = _web(port="http, host: 127.0.0.1")
    with pytest.raises(sn.SnippetError, match="node's loopback"):
        _check(bad)
    _check(_web(port="http, host: 127.0.0.1", pod_extra="hostNetwork: true"))


def test_probe_rules_also_check_fragments_validated_in_context():
    fragment = ("containers:\n  - name: proxy\n    image: ghcr.io/example/proxy:1.0.0\n"
                "    args: ['--listen=127.0.0.1:5432']\n    ports: [{containerPort: 5432}]\n"
                "    livenessProbe:\n      tcpSocket: {port: 5432}\n")
    with pytest.raises(sn.SnippetError, match="wrapped in pod-spec.*binds it to loopback"):
        _check(fragment, "<!-- snippet: partial in=pod-spec -->\n")


def _secret_app(pod_security: str = "runAsNonRoot: true", volume: str = "secret: {secretName: db, defaultMode: 0400}"
                ) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels: {{app: web}}
          template:
            metadata:
              labels: {{app: web}}
            spec:
              securityContext: {{{pod_security}}}
              containers:
                - name: web
                  image: ghcr.io/example/web:1.2.0
                  volumeMounts:
                    - {{name: db-credentials, mountPath: /run/secrets/db, readOnly: true}}
              volumes:
                - name: db-credentials
                  {volume}
        """)


SECRET_APP_BAD = _secret_app()
# The corrected example of Q7: fsGroup makes the files group-readable for the app's group.
SECRET_APP_GOOD = _secret_app("runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001",
                              "secret: {secretName: db, defaultMode: 0440}")


def test_restrictive_secret_mode_without_fs_group_fails_and_fs_group_passes():
    assert yaml.safe_load(SECRET_APP_BAD)["spec"]["template"]["spec"]["volumes"][0]["secret"]["defaultMode"] == 0o400
    with pytest.raises(sn.SnippetError, match=r"Secret volume 'db-credentials' has file mode 0400.*cannot read"):
        _check(SECRET_APP_BAD)
    _check(SECRET_APP_GOOD)


@pytest.mark.parametrize("pod_security, volume", [
    ("runAsUser: 10001", None),  # an explicit non-root user
    (None, "secret: {secretName: db, defaultMode: 400}"),  # decimal 400 is 0620: no read for group or others
    ("runAsNonRoot: true, runAsGroup: 10001", "secret: {secretName: db, defaultMode: 0440}"),  # group is not root
    (None, "secret: {secretName: db, defaultMode: 0444, items: [{key: password, path: password, mode: 0400}]}"),
    (None, "projected: {defaultMode: 0400, sources: [{secret: {name: db}}]}"),
    (None, "configMap: {name: settings, defaultMode: 0600}"),
])
def test_volume_readable_rule_fails_on_variants(pod_security, volume):
    with pytest.raises(sn.SnippetError, match="cannot read"):
        _check(_secret_app(pod_security or "runAsNonRoot: true", volume or "secret: {secretName: db, defaultMode: 0400}"))


@pytest.mark.parametrize("pod_security, volume", [
    ("runAsUser: 0", None),  # root owns the files
    ("seccompProfile: {type: RuntimeDefault}", None),  # the image's user: unknown, not judged
    (None, "secret: {secretName: db, defaultMode: 0444}"),  # others may read
    (None, "secret: {secretName: db, defaultMode: 0440}"),  # group-only, but the group may be root: not judged
    ("runAsNonRoot: true, fsGroup: 2000", None),  # fsGroup: the kubelet adds group read for 2000
])
def test_volume_readable_rule_passes_when_the_files_are_readable_or_unknown(pod_security, volume):
    _check(_secret_app(pod_security or "runAsNonRoot: true", volume or "secret: {secretName: db, defaultMode: 0400}"))


ENV_FROM_PAGE = textwrap.dedent("""\
    # Page

    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: web-config
    data:
      LOG_LEVEL: info
      settings.toml: |
        [ui]
        title = "Shop"
    ```

    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.2.0
          envFrom:
            - configMapRef:
                name: web-config
    ```
    """)


def test_env_from_a_config_map_with_file_keys_fails_and_the_split_passes(tmp_path):
    (tmp_path / "page.md").write_text(ENV_FROM_PAGE)
    errors = sn.validate_all(tmp_path).errors
    assert len(errors) == 1 and "page.md:15: Pod/web" in errors[0] and "['settings.toml']" in errors[0]
    split = ENV_FROM_PAGE.replace("  LOG_LEVEL: info\n  settings.toml:",
                                  "  LOG_LEVEL: info\n---\napiVersion: v1\nkind: ConfigMap\n"
                                  "metadata:\n  name: web-settings\ndata:\n  settings.toml:")
    (tmp_path / "page.md").write_text(split)
    assert sn.validate_all(tmp_path).errors == []
