#!/usr/bin/env bash
# Proves that the portal runs as several replicas (issue 17, item 3): two real portal
# backends (packages/backend, app-config.production.yaml) on ONE PostgreSQL, both
# watching the same Kubernetes API server:
#   (a) a page connected to replica A shows a blue-green switch made through replica B
#       within 1 s
#   (b) the switch is audited once and patched once (the replicas' auditor records, the
#       API server's audit log)
#   (c) the API server's request count grows with replicas, not with open pages
#   (d) the scheduled scale-down after the switch runs once across the replicas
#   (e) the memory of each replica, cluster-wide and with rollouts.namespaces
# The test itself is tests/rollouts-bench/src/replicas/twoReplicas.replicas.ts; it works
# in a namespace of its own (REPLICAS_NAMESPACE_PREFIX, default "replicas", plus a
# random suffix) on the fake (KWOK) nodes and deletes it afterwards.
# scripts/test-portal-on-cluster.sh runs the same test against two pods of deploy/portal
# (tests/rollouts-bench/README.md, "Several portal replicas").
#
# Cluster: KUBECONFIG and KUBE_AUDIT_LOG (the API server's JSON audit log), or the running
# local control plane (platform/cluster.sh env). Without either, demo_cluster_up starts
# the local cluster and this script stops it again. deploy/demo is applied only when its
# rollouts ClusterRoles are missing.
# Ports: chosen free at run time (PostgreSQL and each replica). Everything started here is
# stopped on exit. Artifacts (replica logs, report): artifacts/replicas/.
#
# Env: REPLICAS_WINDOW_SECONDS (30, each request-counting window)
#      REPLICAS_NAMESPACE_PREFIX (replicas)
set -euo pipefail
# shellcheck source=scripts/lib/toolchain.sh
source "$(dirname "$0")/lib/toolchain.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "$0")/lib/postgres.sh"
# shellcheck source=scripts/lib/backend.sh
source "$(dirname "$0")/lib/backend.sh"
ensure_toolchain

ARTIFACTS="$REPO_ROOT/artifacts/replicas"
WORK_DIR="$(mktemp -d /tmp/golden-path-replicas.XXXXXX)"
export REPLICAS_PID_DIR="$WORK_DIR/pids"
mkdir -p "$ARTIFACTS" "$REPLICAS_PID_DIR"
CLUSTER_STARTED=
T0=$(date +%s)

step() { log "[$(($(date +%s) - T0)) s] $*"; }

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local pid
  # Replicas the test started and did not stop (it failed or was interrupted).
  for pid in "$REPLICAS_PID_DIR"/*; do
    [ -e "$pid" ] || continue
    stop_backend_group "$(basename "$pid")" "replica left running (pid $(basename "$pid"))"
  done
  stop_postgres
  [ -n "$CLUSTER_STARTED" ] && bash "$REPO_ROOT/platform/cluster.sh" stop
  cp "$WORK_DIR"/*.log "$ARTIFACTS/" 2>/dev/null || true
  rm -rf "$WORK_DIR"
  step "done"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${KUBECONFIG:-}" ] && bash "$REPO_ROOT/platform/cluster.sh" status >/dev/null 2>&1; then
  eval "$(bash "$REPO_ROOT/platform/cluster.sh" env)"
fi
if [ -n "${KUBECONFIG:-}" ] && [ -z "${KUBE_AUDIT_LOG:-}" ]; then
  die "KUBECONFIG is set but KUBE_AUDIT_LOG is not: the test counts requests in the API server's audit log"
fi
if [ -z "${KUBECONFIG:-}" ] ||
  ! kubectl --kubeconfig "$KUBECONFIG" get clusterrole backstage-rollouts-read backstage-rollouts-write >/dev/null 2>&1; then
  step "applying deploy/demo (log: artifacts/replicas/demo.log)"
  FLUX_DISABLED=1 demo_cluster_up >"$ARTIFACTS/demo.log" 2>&1 ||
    { tail -n 40 "$ARTIFACTS/demo.log"; die "deploy/demo did not roll out (log above)"; }
  [ -n "${KUBECONFIG:-}" ] || eval "$(bash "$REPO_ROOT/platform/cluster.sh" env)"
fi
export KUBECONFIG KUBE_AUDIT_LOG
step "cluster: $(kubectl --kubeconfig "$KUBECONFIG" config view --minify -o jsonpath='{.clusters[0].cluster.server}')"

start_postgres
step "PostgreSQL ready"
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$PGPORT" POSTGRES_USER="$PGUSER" POSTGRES_PASSWORD="$PGPASSWORD"
export BACKEND_SECRET="test-secret-$RANDOM$RANDOM" AUTH_GITHUB_CLIENT_ID=unused AUTH_GITHUB_CLIENT_SECRET=unused
export PORTAL_SKELETONS_DIR="$REPO_ROOT/fastapi-skeletons"
export REPLICAS_WORK_DIR="$WORK_DIR" BENCH_REPORT="$ARTIFACTS/replicas.md"
: >"$BENCH_REPORT"

step "two-replica test (replica logs: artifacts/replicas/)"
# CI=true: one run, not Jest's watch mode.
CI=true yarn --cwd "$REPO_ROOT/tests/rollouts-bench" backstage-cli package test \
  --runInBand --testMatch '**/*.replicas.ts' "$@"
