#!/usr/bin/env bash
# Build (or reuse) the Kubernetes binaries of the local platform: the control plane
# (kube-apiserver, kube-controller-manager, kube-scheduler, etcd), the node (kubelet,
# kube-proxy), kwok (fake nodes for scale tests) and kubectl.
#
# They are compiled from Go modules pinned in platform/kubernetes/go.mod (no Docker,
# no downloaded release binaries) by go_build (platform/lib/go-build.sh) into
#   ${PLATFORM_CACHE:-$HOME/.cache/golden-path-portal}/kube-<version>/
# and reused while the stamp (go.mod, go.sum, the wrapper sources, the flags and the Go
# version) still matches. Prints the binary directory.
#
# Env: PLATFORM_CACHE      cache root (default ~/.cache/golden-path-portal)
#      GO_BUILD_PARALLEL   go build -p value (default 2; lower it to save memory)
#      GO_BUILD_FORCE=1    rebuild even if the stamp matches
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

version="$(kube_version)"
minor="${version#v1.}"; minor="${minor%%.*}"
# Stamp the release into the binaries as Kubernetes' own build does (hack/lib/version.sh);
# otherwise /version reports v0.0.0-master.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean"
done

if [[ -n "${KUBE_BIN_DIR:-}" ]]; then
  log "KUBE_BIN_DIR is set: using the binaries in ${KUBE_BIN_DIR}, nothing to build"
  printf '%s\n' "${KUBE_BIN_DIR}"
  exit 0
fi
log "Kubernetes ${version}: a cold build takes 8-25 min on 2 cores (peak ~2.6 GiB)"
bin_dir="$(go_build "kube-${version}" "${KUBERNETES_MODULE_DIR}" "${ldflags}" --tags providerless \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy \
  sigs.k8s.io/kwok/cmd/kwok \
  ./cmd/etcd)"
[[ "${bin_dir}" == "$(kube_bin_dir)" ]] || die "built into ${bin_dir}, but kube_bin_dir is $(kube_bin_dir)"

# The standalone kwok binary has no built-in Stages (kwokctl injects them), so ship
# kwok's own default stages (node-initialize, node-heartbeat-with-lease, pod-ready,
# pod-complete, pod-delete) from the exact kwok module version pinned in go.sum.
# Written after go_build has released its lock: callers that waited for one build (the
# background prebuild and a stage) may both get here, so each writes its own temporary
# file and the renames replace one whole file with another.
if [[ ! -s "${bin_dir}/kwok-stages.yaml" ]]; then
  stages_tmp="$(mktemp "${bin_dir}/.kwok-stages.XXXXXX")"
  trap 'rm -f "${stages_tmp}"' EXIT
  kwok_dir="$(cd "${KUBERNETES_MODULE_DIR}" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  [[ -d "${kwok_dir}/kustomize/stage" ]] || die "kwok module source not found in the module cache (${kwok_dir}); run: (cd platform/kubernetes && go mod download sigs.k8s.io/kwok)"
  {
    first=1
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      [[ ${first} == 1 ]] || printf -- '---\n'
      first=0
      cat "${kwok_dir}/kustomize/stage/${f}"
    done
  } > "${stages_tmp}"
  chmod 644 "${stages_tmp}"
  mv "${stages_tmp}" "${bin_dir}/kwok-stages.yaml"
fi
printf '%s\n' "${bin_dir}"
