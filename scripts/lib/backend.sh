# shellcheck shell=bash
# Runs the portal backend in the background for tests and waits until it is ready.
#   start_backend LOGFILE [--config FILE ...]  -> sets BACKEND_PID
#   stop_backend
# BACKEND_PORT (7007): where it is awaited; a config given to start_backend must
# listen there when it is not 7007.

start_backend() {
  local logfile="$1"; shift
  (cd "$REPO_ROOT/packages/backend" && exec setsid yarn backstage-cli package start "$@") >"$logfile" 2>&1 &
  BACKEND_PID=$!
  local waited=0
  until curl -sf "http://127.0.0.1:${BACKEND_PORT:-7007}/.backstage/health/v1/readiness" >/dev/null; do
    if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
      tail -n 40 "$logfile"; die "the backend exited during start-up (log: $logfile)"
    fi
    [ $waited -ge 240 ] && { tail -n 40 "$logfile"; die "the backend was not ready after ${waited}s"; }
    sleep 1; waited=$((waited + 1))
  done
  BACKEND_READY_SECONDS=$waited
  log "backend ready after ${waited}s"
}

stop_backend() {
  [ -n "${BACKEND_PID:-}" ] || return 0
  kill -TERM -- "-$BACKEND_PID" 2>/dev/null || kill -TERM "$BACKEND_PID" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$BACKEND_PID" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$BACKEND_PID" 2>/dev/null || true
  BACKEND_PID=
}

# Throw-away SQLite and TechDocs directories for a test backend, under DIR.
#   use_scratch_data DIR
use_scratch_data() {
  export PORTAL_SQLITE_DIR="$1/db" PORTAL_TECHDOCS_DIR="$1/techdocs"
  mkdir -p "$PORTAL_SQLITE_DIR" "$PORTAL_TECHDOCS_DIR"
}

# The demo workload (deploy/demo) on the cluster in KUBECONFIG, or on the local control
# plane, which demo.sh starts when it is not running (then CLUSTER_STARTED=1: the caller
# stops it). Exports the portal's K8S_CLUSTER_* settings for app-config.cluster.yaml.
demo_cluster_up() {
  if [ -z "${KUBECONFIG:-}" ] && ! bash "$REPO_ROOT/platform/cluster.sh" status >/dev/null 2>&1; then
    CLUSTER_STARTED=1
  fi
  bash "$REPO_ROOT/platform/demo.sh" up || return 1
  # shellcheck disable=SC1091
  source "${PLATFORM_STATE:-/tmp/golden-path-platform}/portal.env"
}
