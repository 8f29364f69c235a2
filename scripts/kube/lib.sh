#!/usr/bin/env bash
# Shared helpers for scripts/kube/*.sh. Source it; do not execute it.
# shellcheck disable=SC2034

KUBE_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${KUBE_SCRIPTS_DIR}/../.." && pwd)"
TESTBIN_MODULE_DIR="${REPO_ROOT}/tools/kube-testbin"

KUBE_TESTBIN_CACHE="${KUBE_TESTBIN_CACHE:-${HOME}/.cache/golden-path-portal}"
KUBE_TESTBIN_STATE="${KUBE_TESTBIN_STATE:-/tmp/golden-path-portal-kube}"

log() { printf '[kube] %s\n' "$*" >&2; }
die() { printf '[kube] ERROR: %s\n' "$*" >&2; exit 1; }

# The Kubernetes version is whatever tools/kube-testbin/go.mod requires.
kube_version() {
  local v
  v="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "${TESTBIN_MODULE_DIR}/go.mod")"
  [[ -n "${v}" ]] || die "cannot find the k8s.io/kubernetes requirement in ${TESTBIN_MODULE_DIR}/go.mod"
  printf '%s\n' "${v}"
}

# Directory holding the built binaries (override with KUBE_TESTBIN_BIN_DIR).
kube_bin_dir() {
  if [[ -n "${KUBE_TESTBIN_BIN_DIR:-}" ]]; then
    printf '%s\n' "${KUBE_TESTBIN_BIN_DIR}"
  else
    printf '%s/kube-%s\n' "${KUBE_TESTBIN_CACHE}" "$(kube_version)"
  fi
}

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kubectl)
