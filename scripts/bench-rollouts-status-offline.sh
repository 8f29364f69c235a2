#!/usr/bin/env bash
# The status-under-load benchmark (tests/rollouts-bench/src/statusLoad.bench.ts) without a
# cluster: the real backend on a free port, with throw-away SQLite and no cluster (the
# rollouts plugin still authenticates, authorizes and looks the entity up on every
# request), 50 concurrent requests by today's path (entity read from the catalog as the
# user) and through the shared entity cache, in alternating rounds of one run.
# Modes: "production" is what users run, the image's way (packages/backend/Dockerfile):
# the built bundle under node with NODE_ENV=production (JSON logs); "dev" is
# `backstage-cli package start` (transpiling loaders, a coloured log line per request).
# Each mode is one backend and one run of both paths; the goal (p95 < 200 ms) is the
# production mode's. The Kubernetes plugin's row needs the cluster:
# scripts/bench-rollouts.sh prints all three.
#
# Usage: scripts/bench-rollouts-status-offline.sh
# Env:   BENCH_LOAD_REQUESTS (2000 per path)
#        BENCH_BACKEND_MODES ("production dev": the modes to run, in order)
#        BACKEND_SKIP_BUILD (1: the last bundle build, for repeated runs of unchanged code)
#        BENCH_BACKEND_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=DIR, production mode)
#        BENCH_REPORT (artifacts/bench/rollouts-status-offline.md)
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/backend.sh"
ensure_toolchain

DATA_DIR="$(mktemp -d /tmp/golden-path-status-bench.XXXXXX)"
trap 'stop_backend; rm -rf "$DATA_DIR"' EXIT
MODES="${BENCH_BACKEND_MODES:-production dev}"

use_free_backend_port "$DATA_DIR"
mkdir -p "$REPO_ROOT/artifacts/bench"
export BENCH_BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" BENCH_WITHOUT_CLUSTER=1
export BENCH_REPORT="${BENCH_REPORT:-$REPO_ROOT/artifacts/bench/rollouts-status-offline.md}"
{
  echo "# Rollouts status under load, without a cluster"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "$(nproc) cores. Reproduce: scripts/bench-rollouts-status-offline.sh"
} >"$BENCH_REPORT"

for mode in $MODES; do
  use_scratch_data "$DATA_DIR/$mode"
  logfile="$REPO_ROOT/artifacts/bench/backend-status-offline-$mode.log"
  BACKEND_NODE_OPTIONS="${BENCH_BACKEND_NODE_OPTIONS:-}" start_backend_in_mode "$mode" "$logfile" "$DATA_DIR" \
    --config "$REPO_ROOT/app-config.yaml" --config "$BACKEND_PORT_CONFIG"
  log "status benchmark, $mode mode, load average $(cut -d' ' -f1-3 /proc/loadavg) (report: $BENCH_REPORT)"
  # CI=true: one run, not Jest's watch mode. The backend runs under setsid: its session
  # is its processes, whose CPU time the benchmark reads.
  CI=true BENCH_BACKEND_MODE="$mode" BENCH_BACKEND_SESSION="$BACKEND_PID" yarn --cwd "$REPO_ROOT/tests/rollouts-bench" bench --testPathPatterns statusLoad
  stop_backend
done
