#!/usr/bin/env bash
# Flux on the local cluster: source-controller and kustomize-controller (build.sh) run
# as host processes against the local API server, like the rest of the platform, so a
# push to a registered repository reconciles into the cluster (README.md).
#
# usage: platform/flux/flux.sh start|stop|status|connect-gitea
#   start          install the CRDs (from the Go module cache), flux-system and the
#                  identities of manifests.yaml, start both controllers unless they
#                  run, wait until both answer /readyz
#   stop           stop both (platform/cluster.sh stop does it too)
#   status         exit 0 when both run and answer /readyz
#   connect-gitea  write the Secret flux-system/${FLUX_GITEA_SECRET} that GitRepositories
#                  of the local Gitea name in secretRef: basic auth with Gitea's
#                  read-only token (platform/gitea/gitea.sh read-token; GITEA_HOME as
#                  there). Idempotent; needs Gitea running.
#
# Only the local cluster (platform/cluster.sh): its state dir holds the controllers'
# certificates, kubeconfigs, logs, pids and the artifact storage, and its stop stops
# them. Against another cluster, install Flux there (README.md, "Your own cluster").
# Env: FLUX_GITEA_SECRET (default golden-path-gitea), KUBE_START_TIMEOUT.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

HERE="${PLATFORM_DIR}/flux"
FLUX_NAMESPACE=flux-system
FLUX_GITEA_SECRET="${FLUX_GITEA_SECRET:-golden-path-gitea}"
FLUX_STATE="${STATE}/flux"
CONTROLLERS=(source-controller kustomize-controller)
# The ServiceAccount every Kustomization applies with (manifests.yaml).
GITOPS_SERVICE_ACCOUNT=golden-path-gitops

usage() { sed -n '6,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

validate_input() {
  [[ "${FLUX_GITEA_SECRET}" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] \
    || die "FLUX_GITEA_SECRET must be a DNS label (lower-case letters, digits, '-'; got '${FLUX_GITEA_SECRET}')"
}

require_cluster() {
  load_ports
  if ! { [[ -f "${KUBECONFIG_OUT}" && -n "${API_PORT:-}" ]] && alive kube-apiserver; }; then
    die "the local cluster is not running (no ${KUBECONFIG_OUT}): start it with platform/cluster.sh start (or make demo). Flux for another cluster: see platform/flux/README.md"
  fi
  BIN="$(kube_bin_dir)"
}

# The CRDs of the version go.mod requires, from the Go module cache (build.sh has
# downloaded both modules).
crd_dirs() {
  local module version dir
  for module in source-controller kustomize-controller; do
    version="$(go_mod_version "${HERE}" "github.com/fluxcd/${module}")"
    dir="$(cd "${HERE}" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
      go mod download -json "github.com/fluxcd/${module}@${version}" | awk -F'"' '$2 == "Dir" { print $4 }')"
    [[ -d "${dir}/config/crd/bases" ]] \
      || die "no config/crd/bases in github.com/fluxcd/${module}@${version} (Go module cache: ${dir:-not downloaded}); run platform/flux/build.sh"
    printf '%s\n' "${dir}/config/crd/bases"
  done
}

install_objects() {
  local found d crds=()
  # Not a process substitution: a failure here must end the script.
  found="$(crd_dirs)" || exit 1
  while read -r d; do crds+=(-f "${d}"); done <<<"${found}"
  kubectl_admin apply --server-side --field-manager=golden-path-flux "${crds[@]}" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { tail -n 20 "${LOGS}/bootstrap.log" >&2; die "could not install Flux's CRDs (log: ${LOGS}/bootstrap.log)"; }
  kubectl_admin wait --for=condition=Established --timeout="${START_TIMEOUT}s" \
    crd/gitrepositories.source.toolkit.fluxcd.io crd/kustomizations.kustomize.toolkit.fluxcd.io >> "${LOGS}/bootstrap.log" 2>&1 \
    || die "Flux's CRDs were not established within ${START_TIMEOUT} s (log: ${LOGS}/bootstrap.log)"
  kubectl_admin apply --server-side --field-manager=golden-path-flux -f "${HERE}/manifests.yaml" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { tail -n 20 "${LOGS}/bootstrap.log" >&2; die "could not apply platform/flux/manifests.yaml (log: ${LOGS}/bootstrap.log)"; }
}

# Each controller gets its own client certificate: its own RBAC (manifests.yaml) and
# its own name in the audit log. Written at every start: a cluster restarted with
# KUBE_KEEP_STATE=1 has a new CA.
# API_HOST and API_PORT come from ports.env (load_ports).
# shellcheck disable=SC2153
write_identity() {
  local c="$1"
  gen_cert "flux-${c}" "/CN=golden-path:flux-${c}" clientAuth
  write_kubeconfig "${FLUX_STATE}/${c}.kubeconfig" "flux-${c}" "https://${API_HOST}:${API_PORT}"
}

health_url() { local var="FLUX_${1%%-*}_HEALTH_PORT"; var="${var^^}"; printf 'http://127.0.0.1:%s/readyz\n' "${!var}"; }
controller_ready() { curl -fsS --max-time 2 "$(health_url "$1")" >/dev/null; }

# Nothing listens on 0.0.0.0 (platform/README.md): every address is 127.0.0.1.
start_source_controller() {
  launch flux/source-controller env KUBECONFIG="${FLUX_STATE}/source-controller.kubeconfig" \
    RUNTIME_NAMESPACE="${FLUX_NAMESPACE}" "${FLUX_BIN}/source-controller" \
    --storage-path="${FLUX_STATE}/storage" \
    --storage-addr="127.0.0.1:${FLUX_STORAGE_PORT}" \
    --storage-adv-addr="127.0.0.1:${FLUX_STORAGE_PORT}" \
    --metrics-addr="127.0.0.1:${FLUX_SOURCE_METRICS_PORT}" \
    --health-addr="127.0.0.1:${FLUX_SOURCE_HEALTH_PORT}" \
    --enable-leader-election=false \
    --log-level=info
}

# --no-remote-bases: a repository builds from its own files only.
# CancelHealthCheckOnNewRevision: a push during a health check that cannot pass (a broken
# release) is applied at once instead of after the check's timeout: the revert of a
# broken release in the GitOps loop took the whole 90 s timeout without it.
start_kustomize_controller() {
  launch flux/kustomize-controller env KUBECONFIG="${FLUX_STATE}/kustomize-controller.kubeconfig" \
    RUNTIME_NAMESPACE="${FLUX_NAMESPACE}" "${FLUX_BIN}/kustomize-controller" \
    --metrics-addr="127.0.0.1:${FLUX_KUSTOMIZE_METRICS_PORT}" \
    --health-addr="127.0.0.1:${FLUX_KUSTOMIZE_HEALTH_PORT}" \
    --default-service-account="${GITOPS_SERVICE_ACCOUNT}" \
    --no-remote-bases=true \
    --feature-gates=CancelHealthCheckOnNewRevision=true \
    --enable-leader-election=false \
    --log-level=info
}

start() {
  local t0 c all_up=1
  t0=$(date +%s.%N)
  require_cluster
  for c in "${CONTROLLERS[@]}"; do alive "flux/${c}" && controller_ready "${c}" || all_up=0; done
  if (( all_up == 1 )); then
    log "flux: already running (source-controller, kustomize-controller)"
    return 0
  fi
  stop >/dev/null 2>&1 || true
  FLUX_BIN="$(bash "${HERE}/build.sh")"
  mkdir -p "${FLUX_STATE}/storage" "${LOGS}/flux" "${PIDS}/flux"
  install_objects
  for c in "${CONTROLLERS[@]}"; do write_identity "${c}"; done
  set_port FLUX_STORAGE_PORT "$(pick_port "" flux-storage)"
  set_port FLUX_SOURCE_METRICS_PORT "$(pick_port "" flux-source-metrics)"
  set_port FLUX_SOURCE_HEALTH_PORT "$(pick_port "" flux-source-health)"
  set_port FLUX_KUSTOMIZE_METRICS_PORT "$(pick_port "" flux-kustomize-metrics)"
  set_port FLUX_KUSTOMIZE_HEALTH_PORT "$(pick_port "" flux-kustomize-health)"
  launch_on_port flux/source-controller "FLUX_STORAGE_PORT FLUX_SOURCE_METRICS_PORT FLUX_SOURCE_HEALTH_PORT" \
    start_source_controller controller_ready source-controller
  launch_on_port flux/kustomize-controller "FLUX_KUSTOMIZE_METRICS_PORT FLUX_KUSTOMIZE_HEALTH_PORT" \
    start_kustomize_controller controller_ready kustomize-controller
  printf 'flux_ready_seconds=%s\n' "$(elapsed "${t0}" "$(date +%s.%N)")" >> "${STATE}/start-time"
  log "flux: source-controller and kustomize-controller ready in $(elapsed "${t0}" "$(date +%s.%N)") s (artifacts at http://127.0.0.1:${FLUX_STORAGE_PORT}, logs in ${LOGS}/flux)"
}

stop() {
  local c
  for c in kustomize-controller source-controller; do stop_process "flux/${c}"; done
}

status() {
  local c rc=0
  load_ports
  for c in "${CONTROLLERS[@]}"; do
    if alive "flux/${c}" && controller_ready "${c}"; then
      printf '%-30s running (pid %s)\n' "flux/${c}" "$(pid_of "flux/${c}")"
    else
      printf '%-30s stopped\n' "flux/${c}"; rc=1
    fi
  done
  return "${rc}"
}

# The Secret is written from stdin: the token never appears on a command line.
connect_gitea() {
  local token user
  require_cluster
  token="$(bash "${PLATFORM_DIR}/gitea/gitea.sh" read-token)" || die "could not get Gitea's read-only token (is Gitea running? platform/gitea/gitea.sh start)"
  user="$(bash "${PLATFORM_DIR}/gitea/gitea.sh" env | sed -n 's/.*GITEA_USERNAME=\([^ ]*\).*/\1/p')"
  [[ -n "${user}" ]] || die "platform/gitea/gitea.sh env printed no GITEA_USERNAME"
  kubectl_admin apply --server-side --field-manager=golden-path-flux -f - >> "${LOGS}/bootstrap.log" 2>&1 <<EOF \
    || die "could not write the Secret ${FLUX_NAMESPACE}/${FLUX_GITEA_SECRET} (is Flux installed? platform/flux/flux.sh start)"
apiVersion: v1
kind: Secret
metadata:
  name: ${FLUX_GITEA_SECRET}
  namespace: ${FLUX_NAMESPACE}
  labels:
    app.kubernetes.io/managed-by: golden-path-platform
  annotations:
    golden-path.dev/purpose: "read-only basic auth for GitRepositories of the local Gitea (platform/flux/flux.sh connect-gitea)"
type: Opaque
stringData:
  username: "${user}"
  password: "${token}"
EOF
  log "flux: Secret ${FLUX_NAMESPACE}/${FLUX_GITEA_SECRET} holds Gitea's read-only token (user ${user})"
}

validate_input
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  connect-gitea) connect_gitea ;;
  *) usage ;;
esac
