#!/usr/bin/env bash
# `make start`: sets everything up and serves the portal at http://localhost:3000
# (backend on http://localhost:7007). Data survives restarts in .tools/data.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"

ensure_toolchain
ensure_techdocs_venv

export PORTAL_SQLITE_DIR="${PORTAL_SQLITE_DIR-$TOOLS_DIR/data}"
export PORTAL_TECHDOCS_DIR="${PORTAL_TECHDOCS_DIR:-$TOOLS_DIR/techdocs}"
[ -n "$PORTAL_SQLITE_DIR" ] && mkdir -p "$PORTAL_SQLITE_DIR"
mkdir -p "$PORTAL_TECHDOCS_DIR"

# The local Git server the Create flow publishes to (platform/gitea/gitea.sh; its data
# stays in .tools/data/gitea). GITEA_DISABLED=1 leaves it off (GitHub only).
if [ "${GITEA_DISABLED:-0}" != 1 ]; then
  GITEA_HOME="${GITEA_HOME:-$TOOLS_DIR/data/gitea}" bash "$REPO_ROOT/platform/gitea/gitea.sh" start
  eval "$(GITEA_HOME="${GITEA_HOME:-$TOOLS_DIR/data/gitea}" bash "$REPO_ROOT/platform/gitea/gitea.sh" env)"
  trap 'GITEA_HOME="${GITEA_HOME:-$TOOLS_DIR/data/gitea}" bash "$REPO_ROOT/platform/gitea/gitea.sh" stop' EXIT
  log "Git server: $GITEA_URL (organisation $GITEA_ORG); templates publish there unless you choose github.com"
fi

configs=(--config "$REPO_ROOT/app-config.yaml")
if [ -n "${K8S_CLUSTER_URL:-}" ]; then
  log "Kubernetes cluster: ${K8S_CLUSTER_NAME:-local} at $K8S_CLUSTER_URL"
  configs+=(--config "$REPO_ROOT/app-config.cluster.yaml")
  # The local cluster (make demo: its kubeconfig names the same API server) gets Flux,
  # reading the local Gitea with a read-only token, and the templates' "Deploy with Flux"
  # builds images for its nodes (GOLDEN_PATH_LOCAL_KUBECONFIG). Flux keeps running with
  # the cluster (platform/cluster.sh stop stops both); FLUX_DISABLED=1 leaves it off.
  # Another cluster brings its own Flux (platform/flux/README.md).
  local_kubeconfig="${PLATFORM_STATE:-/tmp/golden-path-platform}/kubeconfig"
  if [ -f "$local_kubeconfig" ] && awk -v url="$K8S_CLUSTER_URL" '$1 == "server:" && $2 == url { found = 1 } END { exit !found }' "$local_kubeconfig"; then
    export GOLDEN_PATH_LOCAL_KUBECONFIG="$local_kubeconfig"
    if [ "${FLUX_DISABLED:-0}" != 1 ]; then
      bash "$REPO_ROOT/platform/flux/flux.sh" start
      if [ "${GITEA_DISABLED:-0}" != 1 ]; then
        GITEA_HOME="${GITEA_HOME:-$TOOLS_DIR/data/gitea}" bash "$REPO_ROOT/platform/flux/flux.sh" connect-gitea
      fi
      log "Flux: source-controller and kustomize-controller on the local cluster; templates can 'Deploy with Flux'"
    fi
  fi
else
  log "No Kubernetes cluster configured (set K8S_CLUSTER_URL, or run 'make demo'; see README)"
fi
[ -f "$REPO_ROOT/app-config.local.yaml" ] && configs+=(--config "$REPO_ROOT/app-config.local.yaml")

cd "$REPO_ROOT"
# Not exec: the trap above stops the Git server when the portal stops.
yarn backstage-cli repo start "${configs[@]}"
