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

configs=(--config "$REPO_ROOT/app-config.yaml")
if [ -n "${K8S_CLUSTER_URL:-}" ]; then
  log "Kubernetes cluster: ${K8S_CLUSTER_NAME:-local} at $K8S_CLUSTER_URL"
  configs+=(--config "$REPO_ROOT/app-config.cluster.yaml")
else
  log "No Kubernetes cluster configured (set K8S_CLUSTER_URL, or run 'make demo'; see README)"
fi
[ -f "$REPO_ROOT/app-config.local.yaml" ] && configs+=(--config "$REPO_ROOT/app-config.local.yaml")

cd "$REPO_ROOT"
exec yarn backstage-cli repo start "${configs[@]}"
