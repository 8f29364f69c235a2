"""deploy/portal (the portal's own manifests) must pass every check with zero findings,
and must keep the properties the deployment promises (replicas, probes, security...)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from manifest_checks import check_paths
from manifest_checks.catalog import CatalogError, read_catalog_info
from manifest_checks.loader import load_file

from conftest import MC_DIR, REPO_ROOT

PORTAL = REPO_ROOT / "deploy" / "portal"
COMPONENT = "golden-path-portal"  # the portal's Component in the root catalog-info.yaml
KUBERNETES_ID = "golden-path-portal"
NAMESPACE = "golden-path-portal"
SECRET_KEYS = {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "BACKEND_SECRET",
               "GITHUB_TOKEN"}


@pytest.fixture(scope="module")
def catalog_info(tmp_path_factory) -> str:
    """The repository's catalog-info.yaml once its portal Component carries the kubernetes annotations,
    else an equivalent one."""
    root = REPO_ROOT / "catalog-info.yaml"
    try:
        read_catalog_info(str(root), COMPONENT)
        return str(root)
    except CatalogError:
        path = tmp_path_factory.mktemp("catalog") / "catalog-info.yaml"
        path.write_text(yaml.safe_dump({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": COMPONENT, "annotations": {"backstage.io/kubernetes-id": KUBERNETES_ID,
                                                            "backstage.io/kubernetes-namespace": NAMESPACE}},
            "spec": {"type": "website", "owner": "platform", "lifecycle": "production"}}))
        return str(path)


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict]:
    out = {}
    for f in sorted(PORTAL.rglob("*.yaml")):
        if f.name == "kustomization.yaml":
            continue
        for doc in load_file(f):
            assert not doc.error, doc.error
            out[(doc.data["kind"], doc.data["metadata"]["name"])] = doc.data
    return out


def test_portal_manifests_have_zero_findings(catalog_info):
    report = check_paths([str(PORTAL)], catalog_info=catalog_info, component=COMPONENT)
    assert report.findings == [], "\n".join(f.render() for f in report.findings)
    assert report.objects >= 15 and report.checks_failed == 0 and report.checks_passed > 50


def test_portal_manifests_pass_the_cli(catalog_info):
    proc = subprocess.run([sys.executable, "-m", "manifest_checks", "--catalog-info", catalog_info,
                           "--component", COMPONENT, str(PORTAL)],
                          capture_output=True, text=True, cwd=MC_DIR, env={**os.environ, "PYTHONPATH": str(MC_DIR)},
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "manifest-checks: OK:" in proc.stdout


@pytest.mark.parametrize("edit,rule", [
    (lambda c: c["securityContext"].pop("readOnlyRootFilesystem"), "read-only-root-filesystem"),
    (lambda c: c.pop("readinessProbe"), "probes"),
    (lambda c: c.update(image="ghcr.io/golden-path/portal:latest"), "image-tag"),
    (lambda c: c.update(imagePullPolicyy="Always"), "schema"),
])
def test_a_broken_copy_of_the_portal_manifests_fails(tmp_path, catalog_info, edit, rule):
    copy = tmp_path / "portal"
    shutil.copytree(PORTAL, copy)
    dep = copy / "deployment.yaml"
    data = yaml.safe_load(dep.read_text())
    edit(data["spec"]["template"]["spec"]["containers"][0])
    dep.write_text(yaml.safe_dump(data))
    report = check_paths([str(copy)], catalog_info=catalog_info, component=COMPONENT)
    assert {f.rule for f in report.findings} == {rule}


def test_the_portal_without_its_disruption_budget_fails(tmp_path, catalog_info):
    copy = tmp_path / "portal"
    shutil.copytree(PORTAL, copy)
    (copy / "pdb.yaml").unlink()
    k = copy / "kustomization.yaml"
    k.write_text(k.read_text().replace("  - pdb.yaml\n", ""))
    report = check_paths([str(copy)], catalog_info=catalog_info, component=COMPONENT)
    assert {(f.kind, f.name, f.rule) for f in report.findings} == {
        ("Deployment", "portal", "pod-disruption-budget")}


def test_kustomization_lists_everything_but_the_example_secret():
    k = yaml.safe_load((PORTAL / "kustomization.yaml").read_text())
    listed = set(k["resources"])
    on_disk = {p.name for p in PORTAL.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert listed == on_disk
    assert not any("secret" in r.lower() for r in listed), "no Secret with values may be applied"
    assert (PORTAL / "examples" / "secret.example.yaml").is_file()


def test_portal_deployment_contract(objects):
    dep = objects[("Deployment", "portal")]
    spec = dep["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["runAsNonRoot"] is True
    (c,) = pod["containers"]
    assert c["image"].startswith("ghcr.io/golden-path/portal:") and not c["image"].endswith(":latest")
    assert c["readinessProbe"]["httpGet"]["path"] == "/.backstage/health/v1/readiness"
    assert c["livenessProbe"]["httpGet"]["path"] == "/.backstage/health/v1/liveness"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 7007}
    assert c["readinessProbe"]["httpGet"]["port"] in ("http", 7007)
    env_from_secret = {e["name"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert env_from_secret == SECRET_KEYS
    assert not any("value" in e and e["name"] in SECRET_KEYS for e in c["env"])
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    config_volume = volumes[mounts["/etc/backstage"]]
    assert config_volume["configMap"]["name"] == "portal-app-config"
    assert "/etc/backstage/app-config.production.yaml" in c["args"]
    assert pod["serviceAccountName"] == "portal"


def test_app_config_is_valid_yaml_and_uses_only_env_for_secrets(objects):
    cm = objects[("ConfigMap", "portal-app-config")]
    text = cm["data"]["app-config.production.yaml"]
    config = yaml.safe_load(text)
    conn = config["backend"]["database"]["connection"]
    assert conn == {"host": "${POSTGRES_HOST}", "port": "${POSTGRES_PORT}", "user": "${POSTGRES_USER}",
                    "password": "${POSTGRES_PASSWORD}"}
    assert config["backend"]["listen"] == ":7007"
    assert config["integrations"]["github"][0]["token"] == "${GITHUB_TOKEN}"


def test_pdb_service_ingress(objects):
    pdb = objects[("PodDisruptionBudget", "portal")]
    dep_labels = objects[("Deployment", "portal")]["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["minAvailable"] == 2
    assert pdb["spec"]["selector"]["matchLabels"].items() <= dep_labels.items()
    svc = objects[("Service", "portal")]
    assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert svc["spec"]["selector"].items() <= dep_labels.items()
    ing = objects[("Ingress", "portal")]
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "portal"


def test_postgres_statefulset_pvc_and_headless_service(objects):
    sts = objects[("StatefulSet", "portal-postgres")]
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert c["image"].startswith("postgres:") and c["image"] != "postgres:latest"
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert {m["name"] for m in c["volumeMounts"]} >= {"data"}
    svc = objects[("Service", "portal-postgres")]
    assert svc["spec"]["clusterIP"] == "None" and sts["spec"]["serviceName"] == "portal-postgres"
    assert {e["name"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})} == {
        "POSTGRES_USER", "POSTGRES_PASSWORD"}


def test_network_policy_lets_only_the_portal_reach_postgres(objects):
    pg_labels = objects[("StatefulSet", "portal-postgres")]["spec"]["template"]["metadata"]["labels"]
    portal_labels = objects[("Deployment", "portal")]["spec"]["template"]["metadata"]["labels"]
    policies = [o for (kind, _), o in objects.items() if kind == "NetworkPolicy"]
    # a default deny for the namespace
    assert any(p["spec"]["podSelector"] == {} and "Ingress" in p["spec"]["policyTypes"] and not p["spec"].get(
        "ingress") for p in policies)
    selecting_pg = [p for p in policies
                    if p["spec"]["podSelector"].get("matchLabels", {}).items() <= pg_labels.items()
                    and p["spec"]["podSelector"] != {}]
    assert len(selecting_pg) == 1
    (rule,) = selecting_pg[0]["spec"]["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # same namespace, pods only
    assert peer["podSelector"]["matchLabels"].items() <= portal_labels.items()
    assert not peer["podSelector"]["matchLabels"].items() <= pg_labels.items()
    assert [p["port"] for p in rule["ports"]] == [5432]


def test_rbac_is_read_only_and_never_secrets(objects):
    role = objects[("ClusterRole", "golden-path-portal-kubernetes-read")]
    for r in role["rules"]:
        assert set(r["verbs"]) <= {"get", "list", "watch"}
        assert "*" not in r["resources"] and "*" not in r["apiGroups"]
        assert "secrets" not in r["resources"]
    readable = {res for r in role["rules"] for res in r["resources"]}
    assert {"pods", "services", "deployments", "replicasets", "ingresses", "horizontalpodautoscalers"} <= readable
    binding = objects[("ClusterRoleBinding", "golden-path-portal-kubernetes-read")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "portal", "namespace": NAMESPACE}]
    for name in ("portal", "portal-postgres", "portal-rollouts"):
        assert objects[("ServiceAccount", name)]["automountServiceAccountToken"] is False


def _plugin_kinds() -> set[str]:
    """The kinds the rollouts plugin caches, read from its source: the RBAC must follow it."""
    import re
    types = (REPO_ROOT / "plugins/rollouts-backend/src/services/clusters/types.ts").read_text()
    kinds = set()
    for name in ("REQUIRED_KINDS", "OPTIONAL_KINDS"):
        block = re.search(rf"{name}: ResourceKind\[\] = \[(.*?)\]", types, re.S)
        assert block, f"{name} not found in types.ts"
        kinds |= set(re.findall(r"'([a-z]+)'", block.group(1)))
    assert len(kinds) == 10
    return kinds


def test_the_demo_rollouts_identity_reads_every_cached_kind_too():
    """deploy/demo's rollouts identity follows the plugin as the production one does."""
    docs = [d for d in yaml.safe_load_all((REPO_ROOT / "deploy/demo/50-portal-rbac.yaml").read_text()) if d]
    read = next(d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "backstage-rollouts-read")
    for r in read["rules"]:
        assert set(r["verbs"]) == {"list", "watch"}
    assert {res for r in read["rules"] for res in r["resources"]} == _plugin_kinds()


def test_rollouts_identity_reads_every_cached_kind_and_writes_only_where_bound(objects):
    read = objects[("ClusterRole", "golden-path-portal-rollouts-read")]
    for r in read["rules"]:
        assert set(r["verbs"]) == {"list", "watch"}
        assert "*" not in r["resources"] and "secrets" not in r["resources"]
    assert {res for r in read["rules"] for res in r["resources"]} == _plugin_kinds()
    # Flux's kind in Flux's group (the GitOps environments view), nothing else of Flux.
    assert [r["resources"] for r in read["rules"] if r["apiGroups"] == ["kustomize.toolkit.fluxcd.io"]] \
        == [["kustomizations"]]
    binding = objects[("ClusterRoleBinding", "golden-path-portal-rollouts-read")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "portal-rollouts", "namespace": NAMESPACE}]

    write = objects[("ClusterRole", "golden-path-portal-rollouts-write")]
    assert {(g, res, v) for r in write["rules"] for g in r["apiGroups"] for res in r["resources"]
            for v in r["verbs"]} == {("", "services", "get"), ("", "services", "patch"),
                                     # the switch's smoke test through the preview Service
                                     ("", "services/proxy", "get"),
                                     ("apps", "deployments", "get"), ("apps", "deployments", "patch")}
    # Never bound cluster-wide: namespaces opt in with the example RoleBinding.
    bindings = [o for (kind, _), o in objects.items() if kind in ("ClusterRoleBinding", "RoleBinding")]
    assert not any(b["roleRef"]["name"] == "golden-path-portal-rollouts-write" and b["kind"] == "ClusterRoleBinding"
                   for b in bindings)
    # The README shows the RoleBinding an application namespace adds to opt in.
    import re
    blocks = re.findall(r"```yaml\n(.*?)```", (PORTAL / "README.md").read_text(), re.S)
    examples = [d for b in blocks for d in yaml.safe_load_all(b) if d and d.get("kind") == "RoleBinding"]
    assert any(d["roleRef"]["name"] == "golden-path-portal-rollouts-write"
               and d["subjects"] == [{"kind": "ServiceAccount", "name": "portal-rollouts", "namespace": NAMESPACE}]
               for d in examples)


def test_kubernetes_plugin_identity_cannot_write(objects):
    """The pod's own ServiceAccount (the Kubernetes plugin, and its proxy) is bound to read roles only."""
    roles = {name: o for (kind, name), o in objects.items() if kind == "ClusterRole"}
    for (kind, _), b in objects.items():
        if kind in ("ClusterRoleBinding", "RoleBinding") and any(s["name"] == "portal" for s in b["subjects"]):
            for r in roles[b["roleRef"]["name"]]["rules"]:
                assert set(r["verbs"]) <= {"get", "list", "watch"}, b["metadata"]["name"]


def test_rollouts_token_reaches_the_pod_as_a_read_only_file_only(objects):
    secret = objects[("Secret", "portal-rollouts-token")]
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "portal-rollouts"
    assert "data" not in secret and "stringData" not in secret
    pod = objects[("Deployment", "portal")]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mount = mounts["rollouts-token"]
    assert mount["mountPath"] == "/var/run/secrets/rollouts" and mount["readOnly"] is True
    assert volumes["rollouts-token"]["secret"]["secretName"] == "portal-rollouts-token"
    assert volumes["rollouts-token"]["secret"]["items"] == [{"key": "token", "path": "token"}]
    assert not any(e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "portal-rollouts-token"
                   for e in c["env"])
    config = yaml.safe_load(objects[("ConfigMap", "portal-app-config")]["data"]["app-config.production.yaml"])
    assert config["rollouts"]["clusters"] == [
        {"name": "in-cluster", "serviceAccountTokenFile": "/var/run/secrets/rollouts/token"}]


def test_app_config_uses_keys_the_plugins_read(objects):
    config = yaml.safe_load(objects[("ConfigMap", "portal-app-config")]["data"]["app-config.production.yaml"])
    (cluster,) = config["kubernetes"]["clusterLocatorMethods"][0]["clusters"]
    # Backstage and the rollouts plugin read caFile; caFilePath is silently ignored.
    assert cluster["caFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    assert "caFilePath" not in cluster
    assert "serviceAccountToken" not in cluster  # the pod's own (read-only) token
    assert config["portal"]["kubernetesProxy"]["allowedGroups"] == []


def test_every_replica_stays_on_the_events_bus(objects):
    """With events.useEventBus "auto" a plugin that subscribes before the events backend is up
    keeps only its own replica's events (a page on one replica misses another's signals)."""
    configs = {
        "deploy/portal ConfigMap": yaml.safe_load(
            objects[("ConfigMap", "portal-app-config")]["data"]["app-config.production.yaml"]),
        "app-config.production.yaml": yaml.safe_load((REPO_ROOT / "app-config.production.yaml").read_text()),
    }
    for name, config in configs.items():
        assert config.get("events", {}).get("useEventBus") == "always", name


def test_namespace_enforces_restricted_pod_security(objects):
    ns = objects[("Namespace", NAMESPACE)]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
