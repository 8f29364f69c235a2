#!/usr/bin/env bash
# portal-local-overlay.sh: the overlay renders deploy/portal with the local images
# (pulled never), the local config mounted and loaded last, the test host's policy, no
# Secret of its own and the base's objects unchanged otherwise; bad input is refused.
set -euo pipefail
LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${LIB_DIR}/../.." && pwd)"
GEN="${LIB_DIR}/portal-local-overlay.sh"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

PORTAL=localhost/golden-path/portal:1.0.0-0123456789ab
POSTGRES=localhost/golden-path/postgres:17-trixie
bash "$GEN" "$work/ok" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2
kubectl kustomize "$work/ok" >"$work/rendered.yaml"

python3 - "$work/rendered.yaml" "$PORTAL" "$POSTGRES" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
portal, postgres = sys.argv[2], sys.argv[3]
def one(kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)}"
    return found[0]
backend = one("Deployment", "portal")["spec"]["template"]["spec"]
container = backend["containers"][0]
assert container["image"] == portal, container["image"]
assert container["imagePullPolicy"] == "Never"
assert container["args"][-2:] == ["--config", "/etc/backstage-local/app-config.local.yaml"], container["args"]
assert {"name": "local-config", "mountPath": "/etc/backstage-local", "readOnly": True} in container["volumeMounts"]
assert {"name": "local-config", "configMap": {"name": "portal-local-config"}} in backend["volumes"]
db = one("StatefulSet", "portal-postgres")["spec"]["template"]["spec"]["containers"][0]
assert db["image"] == postgres and db["imagePullPolicy"] == "Never", db
local = yaml.safe_load(one("ConfigMap", "portal-local-config")["data"]["app-config.local.yaml"])
assert local["app"]["baseUrl"] == local["backend"]["baseUrl"] == "http://198.19.1.2"
assert local["backend"]["csp"]["upgrade-insecure-requests"] is False
policy = one("NetworkPolicy", "portal-from-test-host")["spec"]
assert [p["port"] for p in policy["ingress"][0]["ports"]] == [7007]
# The base's own policies are all still there, and no Secret with values is added.
for name in ("default-deny-ingress", "portal-from-ingress-controller", "postgres-from-portal-only"):
    one("NetworkPolicy", name)
secrets = [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"]
assert secrets == ["portal-rollouts-token"], secrets
assert not any("ghcr.io" in yaml.safe_dump(d) or "postgres:17.6" in yaml.safe_dump(d) for d in docs)
PY
echo "ok: the overlay renders as intended"

# Without a replicas namespace the catalog and rollouts settings are the base's.
python3 - "$work/rendered.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
data = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "portal-local-config"][0]["data"]
assert list(data) == ["app-config.local.yaml"], list(data)
local = yaml.safe_load(data["app-config.local.yaml"])
assert "catalog" not in local and "rollouts" not in local, local
PY
echo "ok: no test entity without a replicas namespace"

bash "$GEN" "$work/replicas" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2 h-test-pair
kubectl kustomize "$work/replicas" >"$work/replicas.yaml"
python3 - "$work/replicas.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
data = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "portal-local-config"][0]["data"]
local = yaml.safe_load(data["app-config.local.yaml"])
# The guest sign-in and base URL stay; the image's catalog file stays listed.
assert local["auth"]["providers"]["guest"]["userEntityRef"] == "user:default/guest"
assert local["app"]["baseUrl"] == "http://198.19.1.2"
assert local["catalog"]["locations"] == [
    {"type": "file", "target": "./catalog-info.yaml"},
    {"type": "file", "target": "/etc/backstage-local/replicas-entity.yaml"},
], local["catalog"]
assert local["rollouts"] == {"switchTimeoutSeconds": 10, "scaleDownCheckSeconds": 2, "keepaliveSeconds": 2}
entity = yaml.safe_load(data["replicas-entity.yaml"])
assert entity["kind"] == "Component" and entity["metadata"]["name"] == "h-test-pair", entity
assert entity["metadata"]["annotations"] == {
    "backstage.io/kubernetes-id": "h-test-pair",
    "backstage.io/kubernetes-namespace": "h-test-pair",
}
# The guest may switch only because it owns the entity (portalPermissionPolicy).
assert entity["spec"]["owner"] == "user:default/guest", entity["spec"]
PY
echo "ok: the replicas namespace adds the pair's entity, owned by the guest, and short periods"

refuses() { # refuses WHY ARGS...
  local why="$1"
  shift
  if bash "$GEN" "$@" 2>/dev/null; then fail "accepted $why"; fi
  echo "ok: refuses $why"
}
refuses "too few arguments" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES"
refuses "an image without a tag" "$work/x" "$REPO_ROOT/deploy/portal" localhost/golden-path/portal "$POSTGRES" http://198.19.1.2
refuses "an image by digest" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "localhost/golden-path/postgres@sha256:abc" http://198.19.1.2
refuses "an https URL" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" https://198.19.1.2
refuses "a URL with a path" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2/x
refuses "a base without kustomization.yaml" "$work/x" "$work" "$PORTAL" "$POSTGRES" http://198.19.1.2
refuses "a replicas namespace that is not a DNS label" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2 'Pair_1'
refuses "a replicas namespace with YAML in it" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2 $'a\n  b: c'
refuses "seven arguments" "$work/x" "$REPO_ROOT/deploy/portal" "$PORTAL" "$POSTGRES" http://198.19.1.2 pair extra
