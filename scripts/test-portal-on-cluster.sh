#!/usr/bin/env bash
# The production path on the local cluster's real nodes (issue 17, item 3): the portal's
# own image from packages/backend/Dockerfile (buildah, platform/images/build-portal.sh),
# deploy/portal/ as it is (3 replicas, PostgreSQL, probes, PDB, NetworkPolicies, RBAC)
# through a generated local overlay, then:
#   1. a browser smoke test through the Service: the catalog loads, the portal's own
#      entity's Rollouts tab shows Connected (read through the pod's in-cluster identity)
#   2. a rolling restart (kubectl rollout restart) while a load generator sends steady
#      requests through the Service: every request is counted, none may fail
#   3. the two-replica test (tests/rollouts-bench/src/replicas/twoReplicas.replicas.ts)
#      against two of the deployment's pods, reached by pod IP: a switch through one
#      shows on a page of the other within 1 s, it is audited once (on that pod) and
#      patched once (API server audit log), API requests grow with replicas not pages,
#      the scheduled scale-down runs once (PostgreSQL's task table, audit log); the
#      blue-green pair lives in namespace PORTAL_ON_CLUSTER_REPLICAS_NAMESPACE, which
#      the overlay's catalog names and which opts in to the portal's writes
#   4. NetworkPolicies enforced
#   5. memory per pod
# The overlay lives in a temporary folder: the local image names (imagePullPolicy Never),
# a ConfigMap with local-only settings (the Service's address as base URL, guest sign-in,
# the catalog file of the image), a NetworkPolicy that lets the test host in (the host
# is not in namespace ingress-nginx). The Secret gets random values at run time and is
# never written to the repository. The base manifests are not edited.
#
# Needs the local cluster with at least one real node (NODES=1 platform/cluster.sh start).
# Removes everything it created on exit (namespace golden-path-portal with its PVC, the
# ClusterRoles/Bindings of deploy/portal); the images imported into the nodes stay (a
# cache: the next run imports nothing).
#
# Env: PORTAL_ON_CLUSTER_LOAD_RPS (20, requests per second during the restart)
#      PORTAL_ON_CLUSTER_REPLICAS_NAMESPACE (portal-replicas-test, the pair's namespace)
#      PORTAL_ON_CLUSTER_KEEP=1 (leave the deployment running, for debugging)
set -euo pipefail
# shellcheck source=scripts/lib/toolchain.sh
source "$(dirname "$0")/lib/toolchain.sh"
ensure_toolchain
cd "$REPO_ROOT"
# Before anything is created: without a cluster, say how to start one.
CLUSTER_ENV="$(bash "$REPO_ROOT/platform/cluster.sh" env 2>/dev/null)" ||
  die "the local cluster is not running: start it with NODES=1 platform/cluster.sh start (or NODES=1 make cluster)"

NAMESPACE=golden-path-portal
REPLICAS_NAMESPACE="${PORTAL_ON_CLUSTER_REPLICAS_NAMESPACE:-portal-replicas-test}"
ARTIFACTS="$REPO_ROOT/artifacts/portal-on-cluster"
WORK_DIR="$(mktemp -d /tmp/golden-path-portal-on-cluster.XXXXXX)"
mkdir -p "$ARTIFACTS"
T0=$(date +%s)
STEP_T0=$T0
RESULTS="$ARTIFACTS/results.md"
: >"$RESULTS"

# step LABEL: ends the previous step (printing its time) and starts the next.
step() {
  local now
  now=$(date +%s)
  log "[$((now - T0)) s] $*"
  STEP_T0=$now
}
# result LABEL VALUE: one measured number, printed and kept in the report.
result() {
  printf '| %s | %s |\n' "$1" "$2" >>"$RESULTS"
  log "RESULT $1: $2"
}
since_step() { echo $(($(date +%s) - STEP_T0)); }

eval "$CLUSTER_ENV"
export KUBECONFIG KUBE_AUDIT_LOG
kubectl get nodes -l golden-path.dev/node=real -o name | grep -q . ||
  die "no real node in the local cluster (start it with NODES=1 platform/cluster.sh start)"
for ns in "$NAMESPACE" "$REPLICAS_NAMESPACE"; do
  kubectl get namespace "$ns" >/dev/null 2>&1 &&
    die "namespace $ns exists already: another run, or a deployment this script must not touch"
done

# Cluster-scoped objects of deploy/portal, deleted on exit (the namespace takes the rest).
CLUSTER_SCOPED=()

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local rc=$?
  if [ -n "${PORTAL_ON_CLUSTER_KEEP:-}" ]; then
    log "PORTAL_ON_CLUSTER_KEEP is set: $NAMESPACE stays (overlay: $WORK_DIR)"
    return
  fi
  kubectl -n "$NAMESPACE" get events --sort-by=.lastTimestamp >"$ARTIFACTS/events.txt" 2>&1 || true
  for pod in $(kubectl -n "$NAMESPACE" get pods -o name 2>/dev/null); do
    kubectl -n "$NAMESPACE" logs "$pod" --all-containers >"$ARTIFACTS/$(basename "$pod").log" 2>&1 || true
  done
  step "removing namespaces $NAMESPACE, $REPLICAS_NAMESPACE and ${#CLUSTER_SCOPED[@]} cluster-scoped objects"
  # The two-replica test deletes its namespace itself, unless it was interrupted.
  kubectl delete namespace "$NAMESPACE" "$REPLICAS_NAMESPACE" --ignore-not-found --wait=true --timeout=180s >/dev/null 2>&1 ||
    warn "namespace $NAMESPACE or $REPLICAS_NAMESPACE was not deleted within 180 s"
  [ ${#CLUSTER_SCOPED[@]} -eq 0 ] || kubectl delete --ignore-not-found "${CLUSTER_SCOPED[@]}" >/dev/null 2>&1 ||
    warn "could not delete ${CLUSTER_SCOPED[*]}"
  rm -rf "$WORK_DIR"
  step "done (exit $rc); the images imported into the nodes stay as a cache. Results: ${RESULTS#"$REPO_ROOT"/}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. images -------------------------------------------------------------------------
step "portal image (platform/images/build-portal.sh: reused when its content key is built)"
PORTAL_REF="$(bash "$REPO_ROOT/platform/images/build-portal.sh" --ref)"
PORTAL_ARCHIVE="$(nice -n 19 bash "$REPO_ROOT/platform/images/build-portal.sh" 2>"$ARTIFACTS/build-portal.log")" ||
  { tail -n 30 "$ARTIFACTS/build-portal.log"; die "the portal image did not build (log above)"; }
result "portal image $PORTAL_REF build or reuse (s)" "$(since_step)"

step "postgres image (platform/images/build.sh postgres)"
POSTGRES_ARCHIVE="$(nice -n 19 bash "$REPO_ROOT/platform/images/build.sh" postgres 2>"$ARTIFACTS/build-postgres.log")" ||
  { tail -n 30 "$ARTIFACTS/build-postgres.log"; die "the postgres image did not build (log above)"; }
POSTGRES_REF="$(bash "$REPO_ROOT/platform/images/build.sh" --ref postgres 2>/dev/null || echo localhost/golden-path/postgres:17-trixie)"
result "postgres image build or reuse (s)" "$(since_step)"

# Imports only what a node lacks: an imported image is the nodes' cache.
step "importing the images into the real nodes"
missing=()
node_images="$(bash "$REPO_ROOT/platform/node/images.sh" list)"
nodes="$(grep -c '^== ' <<<"$node_images")"
[ "$(grep -cxF "$PORTAL_REF" <<<"$node_images")" = "$nodes" ] || missing+=("$PORTAL_ARCHIVE")
[ "$(grep -cxF "$POSTGRES_REF" <<<"$node_images")" = "$nodes" ] || missing+=("$POSTGRES_ARCHIVE")
[ ${#missing[@]} -eq 0 ] || bash "$REPO_ROOT/platform/node/images.sh" import "${missing[@]}"
result "image import into the nodes (s; ${#missing[@]} of 2 imported)" "$(since_step)"

# --- 2. deploy -------------------------------------------------------------------------
step "namespace, Service and Secret (random values, not written to disk)"
kubectl apply -f "$REPO_ROOT/deploy/portal/namespace.yaml" >/dev/null
kubectl apply -f "$REPO_ROOT/deploy/portal/service.yaml" >/dev/null
SERVICE_IP="$(kubectl -n "$NAMESPACE" get service portal -o jsonpath='{.spec.clusterIP}')"
PORTAL_URL="http://$SERVICE_IP"
kubectl -n "$NAMESPACE" create secret generic portal-secrets \
  --from-literal=POSTGRES_HOST="portal-postgres.$NAMESPACE.svc.cluster.local" \
  --from-literal=POSTGRES_PORT=5432 \
  --from-literal=POSTGRES_USER=backstage \
  --from-literal=POSTGRES_PASSWORD="$(openssl rand -hex 24)" \
  --from-literal=BACKEND_SECRET="$(openssl rand -hex 32)" \
  --from-literal=GITHUB_TOKEN=unused-in-the-local-test >/dev/null

step "generating the local overlay in $WORK_DIR (its generator's test first)"
bash "$REPO_ROOT/scripts/lib/portal-local-overlay.test.sh" >"$ARTIFACTS/overlay-test.log" 2>&1 ||
  { cat "$ARTIFACTS/overlay-test.log"; die "scripts/lib/portal-local-overlay.test.sh failed"; }
bash "$REPO_ROOT/scripts/lib/portal-local-overlay.sh" "$WORK_DIR/overlay" \
  "$REPO_ROOT/deploy/portal" "$PORTAL_REF" "$POSTGRES_REF" "$PORTAL_URL" "$REPLICAS_NAMESPACE"
kubectl kustomize "$WORK_DIR/overlay" >"$WORK_DIR/rendered.yaml"
cp "$WORK_DIR/rendered.yaml" "$ARTIFACTS/rendered.yaml"
# Every cluster-scoped object the overlay makes (ClusterRoles and their bindings), for
# the clean-up; the namespace takes everything else with it.
mapfile -t CLUSTER_SCOPED < <(python3 -c '
import sys, yaml
for o in yaml.safe_load_all(open(sys.argv[1])):
    if o and o["kind"] in ("ClusterRole", "ClusterRoleBinding"):
        print(o["kind"].lower() + ".rbac.authorization.k8s.io/" + o["metadata"]["name"])
' "$WORK_DIR/rendered.yaml")

step "kubectl apply -k (overlay of deploy/portal)"
kubectl apply -f "$WORK_DIR/rendered.yaml" >"$ARTIFACTS/apply.log"
kubectl -n "$NAMESPACE" rollout status statefulset/portal-postgres --timeout=300s
kubectl -n "$NAMESPACE" rollout status deployment/portal --timeout=600s
READY_S=$(($(date +%s) - STEP_T0))
result "apply → PostgreSQL and all portal replicas Ready (s)" "$READY_S"
kubectl -n "$NAMESPACE" get pods -o wide | tee "$ARTIFACTS/pods.txt"

# --- 3. tests --------------------------------------------------------------------------
export PORTAL_ON_CLUSTER_URL="$PORTAL_URL" PORTAL_ON_CLUSTER_NAMESPACE="$NAMESPACE"

# Each check runs even when one before it failed; the script fails at the end.
FAILED=()
check() { # check LABEL COMMAND...
  local label="$1" t0
  shift
  step "$label"
  t0=$(date +%s)
  if "$@"; then
    result "$label" "passed in $(($(date +%s) - t0)) s"
  else
    result "$label" "FAILED after $(($(date +%s) - t0)) s"
    FAILED+=("$label")
  fi
}

check "browser smoke test through the Service ($PORTAL_URL)" \
  env PLAYWRIGHT_URL="$PORTAL_URL" yarn playwright test packages/app/e2e-tests/portalOnCluster.test.ts

# Requests lost and restart duration: tests/rollouts-bench appends them to the report.
check "rolling restart under load through the Service" \
  env CI=true BENCH_REPORT="$RESULTS" yarn --cwd "$REPO_ROOT/tests/rollouts-bench" backstage-cli package test \
  --runInBand --testMatch '**/*.oncluster.ts'

# Its tables (request counts, switch timing, audit records, memory) go to a report
# of their own; the check's line here says whether all assertions held.
: >"$ARTIFACTS/replicas.md"
check "two replicas: two pods of the deployment, by pod IP (report: artifacts/portal-on-cluster/replicas.md)" \
  env CI=true BENCH_REPORT="$ARTIFACTS/replicas.md" REPLICAS_PORTAL_NAMESPACE="$NAMESPACE" \
  REPLICAS_NAMESPACE="$REPLICAS_NAMESPACE" yarn --cwd "$REPO_ROOT/tests/rollouts-bench" \
  backstage-cli package test --runInBand --testMatch '**/*.replicas.ts'

# kube-network-policies enforces NetworkPolicy on the real nodes: what the base denies
# the host must not reach. PostgreSQL admits only the portal's pods; the portal only
# the ingress controller's namespace, plus the test host through the overlay's policy:
# without that policy the Service is closed to the host.
step "NetworkPolicies enforced"
tcp_open() { timeout 4 bash -c "</dev/tcp/$1/$2" 2>/dev/null; }
POSTGRES_IP="$(kubectl -n "$NAMESPACE" get pod portal-postgres-0 -o jsonpath='{.status.podIP}')"
tcp_open "$POSTGRES_IP" 5432 && die "PostgreSQL ($POSTGRES_IP:5432) is reachable from the host: postgres-from-portal-only is not enforced"
tcp_open "$SERVICE_IP" 80 || die "the portal Service is not reachable from the host with portal-from-test-host"
kubectl -n "$NAMESPACE" delete networkpolicy portal-from-test-host >/dev/null
sleep 2
tcp_open "$SERVICE_IP" 80 && die "the portal Service is reachable from the host without portal-from-test-host: the base policies are not enforced"
result "NetworkPolicies: host → PostgreSQL, host → portal without the test policy" "both blocked (enforced)"

# The pods that serve now (the restart's old pods may still be draining or listed).
step "memory per pod (metrics-server; the pods restarted above need a scrape first)"
serving="$(kubectl -n "$NAMESPACE" get pods \
  -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}')"
for _ in $(seq 1 24); do
  kubectl -n "$NAMESPACE" top pods --no-headers 2>/dev/null | grep -wFf <(printf '%s\n' "$serving") >"$ARTIFACTS/top.txt" || true
  [ "$(wc -l <"$ARTIFACTS/top.txt")" -ge "$(wc -l <<<"$serving")" ] && break
  sleep 5
done
while read -r pod _ mem; do
  [ -n "$mem" ] && result "memory of $pod (kubectl top, working set)" "$mem"
done < <(awk '{print $1, $2, $3}' "$ARTIFACTS/top.txt")
result "whole run (s)" "$(($(date +%s) - T0))"
[ ${#FAILED[@]} -eq 0 ] || die "failed: ${FAILED[*]} (results: ${RESULTS#"$REPO_ROOT"/})"
