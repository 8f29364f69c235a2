#!/usr/bin/env bash
# Demo path for the portal: a cluster with the fastapi-demo workload (deploy/demo, its
# app in deploy/demo/app, running on the local cluster's real node) and the portal's two
# least-privileged identities (deploy/demo/50-portal-rbac.yaml).
#
# Usage:
#   platform/demo.sh [up]         start the local cluster (unless KUBECONFIG is set or it
#                                     already runs), build the demo app's images (1.0.0 and
#                                     2.0.0) and import them into its nodes, apply
#                                     deploy/demo/ and the scaffolder actions' identity,
#                                     start Flux on the local cluster (FLUX_DISABLED=1
#                                     skips it; platform/flux), wait for the rollouts,
#                                     print the portal's K8S_CLUSTER_*,
#                                     ROLLOUTS_CLUSTER_TOKEN and GOLDEN_PATH_CLUSTER_TOKEN
#   platform/demo.sh env          print the K8S_CLUSTER_* exports again
#   platform/demo.sh switch blue|green
#                                     blue/green switch (and rollback): point Service
#                                     demo-api at the other slot, wait for its EndpointSlices
#   platform/demo.sh chaos restart|oom|unready [deployment]
#                                     make one pod of the Deployment (default fastapi-demo)
#                                     fail its liveness probe (the kubelet restarts the
#                                     container), allocate past its memory limit (OOMKilled,
#                                     exit 137) or fail readiness for 60 s (it leaves the
#                                     Service); then watch it on the Rollouts tab
#   platform/demo.sh images       build the demo app's images, print their OCI archives
#   platform/demo.sh status       show the demo objects
#   platform/demo.sh down         delete the demo objects (the cluster keeps running;
#                                     stop it with platform/cluster.sh stop)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_DIR="${REPO_ROOT}/deploy/demo"
# The images deploy/demo runs. No registry serves them: they exist only where they were
# imported, hence imagePullPolicy IfNotPresent in the manifests.
DEMO_IMAGE=ghcr.io/golden-path/fastapi-demo
DEMO_VERSIONS=(1.0.0 2.0.0)
NS=fastapi-demo
PORTAL_NS=golden-path-portal
PORTAL_SECRET=backstage-portal-token
ROLLOUTS_SECRET=backstage-rollouts-token
# The scaffolder's golden-path:kubernetes:* and golden-path:flux:register identity.
SCAFFOLDER_RBAC="${REPO_ROOT}/plugins/scaffolder-backend-module-golden-path/rbac/golden-path-scaffolder.yaml"
SCAFFOLDER_SECRET=golden-path-scaffolder-token
PORTAL_ENV="${PLATFORM_STATE}/portal.env"

ensure_cluster() {
  if [[ -n "${KUBECONFIG:-}" ]]; then
    log "using the cluster from KUBECONFIG=${KUBECONFIG}"
  else
    bash "${PLATFORM_DIR}/cluster.sh" start
    export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
  fi
}

find_kubectl() {
  local bin_dir
  bin_dir="$(kube_bin_dir)"
  if [[ -x "${bin_dir}/kubectl" ]]; then
    KUBECTL="${bin_dir}/kubectl"
  elif command -v kubectl >/dev/null 2>&1; then
    KUBECTL="$(command -v kubectl)"
  else
    KUBECTL="$(bash "${PLATFORM_DIR}/kubernetes/build.sh")/kubectl"
  fi
}

k() { "${KUBECTL}" "$@"; }

# The token of a ServiceAccount token Secret (filled by the token controller).
secret_token() {
  local secret="$1" token _
  for _ in $(seq 1 60); do
    token="$(k -n "${PORTAL_NS}" get secret "${secret}" -o jsonpath='{.data.token}' 2>/dev/null || true)"
    [[ -n "${token}" ]] && break
    sleep 0.5
  done
  [[ -n "${token}" ]] || die "Secret ${PORTAL_NS}/${secret} has no token: is kube-controller-manager running with --service-account-private-key-file?"
  printf '%s' "${token}" | base64 -d
}

print_env() {
  local server token rollouts_token scaffolder_token ca
  server="$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  # Three identities: the Kubernetes plugin's is read-only; only the rollouts
  # plugin's may patch (deploy/demo/50-portal-rbac.yaml); the scaffolder's actions
  # have their own (rbac/golden-path-scaffolder.yaml, platform/flux/manifests.yaml).
  token="$(secret_token "${PORTAL_SECRET}")"
  rollouts_token="$(secret_token "${ROLLOUTS_SECRET}")"
  scaffolder_token="$(secret_token "${SCAFFOLDER_SECRET}")"
  ca="$(k -n "${PORTAL_NS}" get secret "${PORTAL_SECRET}" -o jsonpath='{.data.ca\.crt}')"
  umask 077
  mkdir -p "$(dirname "${PORTAL_ENV}")"
  cat > "${PORTAL_ENV}" <<EOF
export K8S_CLUSTER_NAME=local
export K8S_CLUSTER_URL=${server}
export K8S_CLUSTER_TOKEN=${token}
export K8S_CLUSTER_CA_DATA=${ca}
export ROLLOUTS_CLUSTER_TOKEN=${rollouts_token}
export GOLDEN_PATH_CLUSTER_TOKEN=${scaffolder_token}
EOF
  # Names only: the tokens stay in the file (mode 0600), out of terminals and CI logs.
  sed 's/=.*/=.../' "${PORTAL_ENV}"
  log "portal env written to ${PORTAL_ENV} (source it before 'make start')"
}

# The demo app's images (blue runs 1.0.0, green 2.0.0), built here without Docker.
# Prints the OCI archives.
build_demo_images() {
  local v
  ensure_platform_packages
  for v in "${DEMO_VERSIONS[@]}"; do
    bash "${PLATFORM_DIR}/images/build-dockerfile.sh" "${DEMO_DIR}/app" "${DEMO_IMAGE}:${v}" \
      --build-arg "APP_VERSION=${v}"
  done
}

# Into the local cluster's real nodes; another cluster needs them loaded its own way.
load_demo_images() {
  local archives
  if [[ "${KUBECONFIG}" != "${PLATFORM_STATE}/kubeconfig" ]] || (( $(running_nodes) == 0 )); then
    log "not the local cluster with real nodes: load the demo images yourself, e.g."
    log "  for a in \$(platform/demo.sh images); do kind load image-archive \"\$a\"; done"
    return 0
  fi
  mapfile -t archives < <(build_demo_images)
  bash "${PLATFORM_DIR}/cluster.sh" images import "${archives[@]}"
}

# Flux runs next to the local cluster's other processes (and stops with it); any other
# cluster brings its own (platform/flux/README.md).
start_flux() {
  if [[ "${FLUX_DISABLED:-0}" == 1 ]]; then
    log "FLUX_DISABLED=1: Flux is not started (templates cannot 'Deploy with Flux')"
  elif [[ "${KUBECONFIG}" != "${PLATFORM_STATE}/kubeconfig" ]]; then
    log "not the local cluster: Flux is not started here (install it in your cluster: platform/flux/README.md)"
  else
    bash "${PLATFORM_DIR}/flux/flux.sh" start
  fi
}

up() {
  ensure_cluster
  find_kubectl
  load_demo_images
  log "applying ${DEMO_DIR} (server-side apply)"
  k apply --server-side --field-manager=golden-path-demo -f "${DEMO_DIR}" >&2
  # After deploy/demo: its namespace golden-path-portal holds the identity's Secret.
  k apply --server-side --field-manager=golden-path-demo -f "${SCAFFOLDER_RBAC}" >&2
  start_flux
  local d
  for d in fastapi-demo demo-api-blue demo-api-green; do
    k -n "${NS}" rollout status "deployment/${d}" --timeout=120s >&2
  done
  k -n "${NS}" get deploy,rs,pods,svc,endpointslices,resourcequota,limitrange,hpa -o wide >&2 || true
  print_env
}

switch() {
  local slot="${1:-}"
  [[ "${slot}" == blue || "${slot}" == green ]] || die "usage: $0 switch blue|green"
  [[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
  find_kubectl
  k -n "${NS}" rollout status "deployment/demo-api-${slot}" --timeout=60s >&2 \
    || die "deployment demo-api-${slot} is not ready: refusing to switch traffic to it"
  k -n "${NS}" patch service demo-api --type=merge -p \
    "{\"metadata\":{\"annotations\":{\"golden-path.example.com/active-slot\":\"${slot}\"}},\"spec\":{\"selector\":{\"app.kubernetes.io/slot\":\"${slot}\"}}}" >&2
  # Wait until the EndpointSlices hold exactly the pods of the new slot.
  local want got _
  want="$(k -n "${NS}" get pods -l "app.kubernetes.io/name=demo-api,app.kubernetes.io/slot=${slot}" \
    -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort | xargs)"
  for _ in $(seq 1 100); do
    got="$(k -n "${NS}" get endpointslices -l kubernetes.io/service-name=demo-api \
      -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | sort | xargs)"
    [[ "${got}" == "${want}" ]] && break
    sleep 0.2
  done
  [[ "${got}" == "${want}" ]] || die "EndpointSlices of demo-api still point at [${got}], expected [${want}]"
  log "demo-api now serves slot ${slot}: ${got}"
}

# One pod of a demo Deployment misbehaves on purpose (the demo app's /chaos routes, called
# from inside the pod, so this works on any cluster kubectl can exec into).
chaos() {
  local action="${1:-}" deployment="${2:-fastapi-demo}" path pod selector
  case "${action}" in
    restart) path="/chaos/unhealthy" ;;
    oom) path="/chaos/oom" ;;
    unready) path="/chaos/unready?seconds=60" ;;
    *) die "usage: $0 chaos restart|oom|unready [deployment]" ;;
  esac
  [[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
  find_kubectl
  # The Deployment's own selector: demo-api-blue and demo-api-green share a name label.
  selector="$(k -n "${NS}" get deployment "${deployment}" \
    -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}')" \
    || die "no deployment/${deployment} in ${NS}"
  pod="$(k -n "${NS}" get pods -l "${selector%,}" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].metadata.name}')"
  [[ -n "${pod}" ]] || die "no running pod of deployment/${deployment} in ${NS}"
  log "${action}: POST ${path} in ${NS}/${pod}"
  # The OOM request never answers: the kernel kills the container while it allocates.
  k -n "${NS}" exec "${pod}" -- python -c "
import urllib.request
try:
    print(urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000${path}', method='POST'), timeout=20).read().decode())
except Exception as e:
    print('no answer (expected for oom):', e)
" >&2 || true
  case "${action}" in
    restart) log "liveness now fails; in about 30 s the kubelet restarts the container (restart count +1, last state Completed/Error)" ;;
    oom) log "the container is OOMKilled (exit 137) and restarted; the Rollouts tab shows the reason" ;;
    unready) log "the pod leaves the Service for 60 s (EndpointSlice conditions.ready=false)" ;;
  esac
}

case "${1:-up}" in
  up) up ;;
  env)
    [[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
    find_kubectl; print_env ;;
  switch) switch "${2:-}" ;;
  chaos) chaos "${2:-}" "${3:-}" ;;
  images) build_demo_images ;;
  status)
    [[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
    find_kubectl
    k -n "${NS}" get deploy,rs,pods,svc,endpointslices,resourcequota,limitrange,hpa -o wide ;;
  down)
    [[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
    find_kubectl
    k delete -f "${DEMO_DIR}" --ignore-not-found --wait=false ;;
  *) die "usage: $0 [up|env|switch blue|green|chaos restart|oom|unready [deployment]|images|status|down]" ;;
esac
