# shellcheck shell=bash
# The local golden path around a portal process: the Git server the Create flow publishes
# to and, on the local cluster, Flux reading it. Shared by `make start` and the browser
# tests, so the tests run the loop exactly as a user gets it. Needs toolchain.sh.
#   start_local_git_server        start Gitea in GITEA_HOME (platform/gitea/gitea.sh) and
#                                 export the GITEA_* settings app-config.yaml reads
#   stop_local_git_server         stop it (its data stays in GITEA_HOME)
#   connect_local_cluster_loop    when K8S_CLUSTER_URL is the local cluster's API server:
#                                 export GOLDEN_PATH_LOCAL_KUBECONFIG (the templates' local
#                                 image builds), start Flux and give it Gitea's read-only
#                                 token. Another cluster brings its own Flux
#                                 (platform/flux/README.md). FLUX_DISABLED=1 skips Flux.

start_local_git_server() {
  : "${GITEA_HOME:?GITEA_HOME must name the data directory of the Git server}"
  export GITEA_HOME
  bash "$REPO_ROOT/platform/gitea/gitea.sh" start
  eval "$(bash "$REPO_ROOT/platform/gitea/gitea.sh" env)"
}

stop_local_git_server() {
  [ -n "${GITEA_HOME:-}" ] || return 0
  bash "$REPO_ROOT/platform/gitea/gitea.sh" stop
}

# True when the local cluster's kubeconfig names the API server in K8S_CLUSTER_URL.
is_local_cluster() {
  local kubeconfig="${PLATFORM_STATE:-/tmp/golden-path-platform}/kubeconfig"
  [ -n "${K8S_CLUSTER_URL:-}" ] && [ -f "$kubeconfig" ] \
    && awk -v url="$K8S_CLUSTER_URL" '$1 == "server:" && $2 == url { found = 1 } END { exit !found }' "$kubeconfig"
}

connect_local_cluster_loop() {
  is_local_cluster || return 0
  export GOLDEN_PATH_LOCAL_KUBECONFIG="${PLATFORM_STATE:-/tmp/golden-path-platform}/kubeconfig"
  [ "${FLUX_DISABLED:-0}" != 1 ] || return 0
  bash "$REPO_ROOT/platform/flux/flux.sh" start
  if [ -n "${GITEA_HOME:-}" ]; then
    bash "$REPO_ROOT/platform/flux/flux.sh" connect-gitea
  fi
  log "Flux: source-controller and kustomize-controller on the local cluster; templates can 'Deploy with Flux'"
}
