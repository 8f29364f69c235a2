#!/usr/bin/env bash
# `make start`: sets everything up and serves the portal at http://localhost:3000
# (backend on http://localhost:7007). Data survives restarts in .tools/data.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/local-loop.sh"

ensure_toolchain
ensure_techdocs_venv

export PORTAL_SQLITE_DIR="${PORTAL_SQLITE_DIR-$TOOLS_DIR/data}"
export PORTAL_TECHDOCS_DIR="${PORTAL_TECHDOCS_DIR:-$TOOLS_DIR/techdocs}"
[ -n "$PORTAL_SQLITE_DIR" ] && mkdir -p "$PORTAL_SQLITE_DIR"
mkdir -p "$PORTAL_TECHDOCS_DIR"

# The local Git server the Create flow publishes to (platform/gitea/gitea.sh; its data
# stays in .tools/data/gitea). GITEA_DISABLED=1 leaves it off (GitHub only).
if [ "${GITEA_DISABLED:-0}" != 1 ]; then
  export GITEA_HOME="${GITEA_HOME:-$TOOLS_DIR/data/gitea}"
  start_local_git_server
  trap stop_local_git_server EXIT
  log "Git server: $GITEA_URL (organisation $GITEA_ORG); templates publish there unless you choose github.com"
fi

# The local cluster by default: real node, the demo workload, Flux (platform/demo.sh up;
# reused when it already runs, and left running when the portal stops, so the services
# created through the portal keep running; `make cluster-stop` stops it). A cluster of
# your own: set K8S_CLUSTER_URL and its settings (README); LOCAL_CLUSTER=0: no cluster.
if [ -z "${K8S_CLUSTER_URL:-}" ] && [ "${LOCAL_CLUSTER:-1}" != 0 ]; then
  log "Local cluster: platform/demo.sh up (the first start builds it, about 12 min on 2 cores; log: $TOOLS_DIR/demo-up.log)"
  if bash "$REPO_ROOT/platform/demo.sh" up 2>&1 | tee "$TOOLS_DIR/demo-up.log"; then
    # shellcheck disable=SC1091  # written by demo.sh: the portal's cluster settings
    source "${PLATFORM_STATE:-/tmp/golden-path-platform}/portal.env"
    log "Local cluster ready; stop it with 'make cluster-stop' (the portal's Ctrl-C leaves it running)"
  else
    warn "the local cluster did not start (log: $TOOLS_DIR/demo-up.log): the portal starts without one; fix the error it names, or set LOCAL_CLUSTER=0 to stop trying"
  fi
fi

configs=(--config "$REPO_ROOT/app-config.yaml")
if [ -n "${K8S_CLUSTER_URL:-}" ]; then
  log "Kubernetes cluster: ${K8S_CLUSTER_NAME:-local} at $K8S_CLUSTER_URL"
  configs+=(--config "$REPO_ROOT/app-config.cluster.yaml")
  # On the local cluster: Flux, reading the local Gitea, and local image builds for
  # "Deploy with Flux" (scripts/lib/local-loop.sh).
  connect_local_cluster_loop
else
  log "No Kubernetes cluster (LOCAL_CLUSTER=0 and no K8S_CLUSTER_URL; see README)"
fi
[ -f "$REPO_ROOT/app-config.local.yaml" ] && configs+=(--config "$REPO_ROOT/app-config.local.yaml")

cd "$REPO_ROOT"
# Not exec: the trap above stops the Git server when the portal stops.
yarn backstage-cli repo start "${configs[@]}"
