#!/usr/bin/env bash
# Benchmarks of the rollouts plugin against Backstage's Kubernetes plugin, on the local
# control plane (real API server with an audit log) and the running portal backend:
#   - Kubernetes API requests per minute for one entity with 1 and 20 open pages
#   - time from a pod turning Ready to an open page showing it
#   - p95 latency of the status endpoint under 50 concurrent requests, by today's path
#     (entity read from the catalog as the user) and through the shared entity cache, in
#     alternating rounds (without a cluster: scripts/bench-rollouts-status-offline.sh)
#   - cache memory per 1,000 pods
#   - at scale (scale.bench.ts): 20,000 pods in 4,000 Deployments with their revision
#     history across 200 namespaces on fake nodes: cache memory per 1,000 pods, time to
#     first sync, status p95 of one entity, change -> signal p95, API requests per
#     minute, each against the same run's baseline and Kubernetes plugin
# Starts (or reuses) the cluster, applies deploy/demo, starts the backend with
# app-config.cluster.yaml, runs tests/rollouts-bench and stops what it started.
# Results: stdout and artifacts/bench/rollouts.md.
#
# Usage: scripts/bench-rollouts.sh [jest args, e.g. -t "cache memory"]
# Env:   BENCH_WINDOW_SECONDS (60)  BENCH_TRIALS (10)  BENCH_LOAD_REQUESTS (2000)
#        BENCH_MEMORY_PODS (1000)  BENCH_SCALE_DEPLOYMENTS (4000)
#        BENCH_SCALE_NAMESPACES (200)  BENCH_SCALE_PODS_PER_DEPLOYMENT (5)
#        BENCH_SCALE_TRIALS (10)  BENCH_SCALE_PREFIX (bench-scale)
#        BENCH_SCALE_CLEANUP (wait; discard: send the deletions, do not wait: the cluster goes next)
#        BENCH_BACKEND_MODE (production: the built bundle under NODE_ENV=production, as
#        the image runs it; dev: `backstage-cli package start`)
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/backend.sh"
ensure_toolchain

DATA_DIR="$(mktemp -d /tmp/golden-path-bench.XXXXXX)"
CLUSTER_STARTED=
cleanup() {
  stop_backend
  [ -n "$CLUSTER_STARTED" ] && bash "$REPO_ROOT/platform/cluster.sh" stop
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

if [ -n "${KUBECONFIG:-}" ] && [ -z "${KUBE_AUDIT_LOG:-}" ]; then
  die "KUBECONFIG is set but KUBE_AUDIT_LOG is not: the benchmark counts requests in the API server's audit log. Unset KUBECONFIG to use the local control plane, or point KUBE_AUDIT_LOG at your API server's JSON audit log."
fi
mkdir -p "$REPO_ROOT/artifacts/bench"
log "applying deploy/demo (log: artifacts/bench/demo.log)"
# Without Flux: the benchmark measures the rollouts plugin alone (and builds nothing else).
FLUX_DISABLED=1 demo_cluster_up >"$REPO_ROOT/artifacts/bench/demo.log" 2>&1 \
  || { tail -n 40 "$REPO_ROOT/artifacts/bench/demo.log"; die "deploy/demo did not roll out (log above)"; }
# The local control plane's kubeconfig and audit log.
[ -n "${KUBECONFIG:-}" ] || eval "$(bash "$REPO_ROOT/platform/cluster.sh" env)"
export KUBECONFIG KUBE_AUDIT_LOG

use_scratch_data "$DATA_DIR"
# Production mode (the image's bundle under NODE_ENV=production) is what users run.
export BENCH_BACKEND_MODE="${BENCH_BACKEND_MODE:-production}"
start_backend_in_mode "$BENCH_BACKEND_MODE" "$REPO_ROOT/artifacts/bench/backend.log" "$DATA_DIR" \
  --config "$REPO_ROOT/app-config.yaml" --config "$REPO_ROOT/app-config.cluster.yaml"
# The backend runs under setsid: its session is its processes, whose CPU time the
# status benchmark reads.
export BENCH_BACKEND_SESSION="$BACKEND_PID"

export BENCH_BACKEND_URL=http://127.0.0.1:7007
# The identity deploy/demo gives the portal; both plugins use it.
# The portal's two identities (deploy/demo/50-portal-rbac.yaml): the Kubernetes plugin's
# and the rollouts plugin's. Requests of both are counted.
export BENCH_PORTAL_USERS=system:serviceaccount:golden-path-portal:backstage-portal,system:serviceaccount:golden-path-portal:backstage-rollouts
export BENCH_REPORT="${BENCH_REPORT:-$REPO_ROOT/artifacts/bench/rollouts.md}"
{
  echo "# Rollouts plugin benchmarks"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "Kubernetes $(bash -c "source '$REPO_ROOT/platform/lib.sh'; kube_version")" \
    "with a fake kubelet (KWOK). Reproduce: scripts/bench-rollouts.sh"
} >"$BENCH_REPORT"

log "benchmarks (report: $BENCH_REPORT)"
# CI=true: one run, not Jest's watch mode.
CI=true yarn --cwd "$REPO_ROOT/tests/rollouts-bench" bench "$@"

# What Kubernetes does to a portal pod: the backend must exit on SIGTERM before the grace
# period (deploy/portal: 30 s) ends in SIGKILL; long polls would hold it for up to 55 s
# (packages/backend/src/cutLingeringConnections.ts).
stop_backend
[ "$BACKEND_STOP_KILLED" = 0 ] ||
  die "the backend ($BENCH_BACKEND_MODE mode) still ran 30 s after SIGTERM; in Kubernetes it would be killed (log: artifacts/bench/backend.log)"
