#!/usr/bin/env bash
# Shared by every script of the local platform (platform/*). Source it; do not run it.
#
# The one place for the platform's state, caches and ports:
#   PLATFORM_STATE  running cluster: kubeconfig, pki, logs, pids, ports, node state
#                   (default /tmp/golden-path-platform; removed by `cluster.sh stop`)
#   PLATFORM_CACHE  built binaries and images, keyed by version and inputs
#                   (default ~/.cache/golden-path-portal; never needed, always reused)
# shellcheck disable=SC2034

PLATFORM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${PLATFORM_DIR}/.." && pwd)"
KUBERNETES_MODULE_DIR="${PLATFORM_DIR}/kubernetes"

PLATFORM_CACHE="${PLATFORM_CACHE:-${HOME}/.cache/golden-path-portal}"
PLATFORM_STATE="${PLATFORM_STATE:-/tmp/golden-path-platform}"

log() { printf '[platform] %s\n' "$*" >&2; }
die() { printf '[platform] ERROR: %s\n' "$*" >&2; exit 1; }

# The Kubernetes version is whatever platform/kubernetes/go.mod requires.
kube_version() {
  local v
  v="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "${KUBERNETES_MODULE_DIR}/go.mod")"
  [[ -n "${v}" ]] || die "cannot find the k8s.io/kubernetes requirement in ${KUBERNETES_MODULE_DIR}/go.mod"
  printf '%s\n' "${v}"
}

# Directory holding the built Kubernetes binaries (override with KUBE_BIN_DIR).
kube_bin_dir() {
  if [[ -n "${KUBE_BIN_DIR:-}" ]]; then
    printf '%s\n' "${KUBE_BIN_DIR}"
  else
    printf '%s/kube-%s\n' "${PLATFORM_CACHE}" "$(kube_version)"
  fi
}

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kubectl kubelet kube-proxy)
