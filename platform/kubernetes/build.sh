#!/usr/bin/env bash
# Build (or reuse) the Kubernetes binaries of the local platform: the control plane
# (kube-apiserver, kube-controller-manager, kube-scheduler, etcd), the node (kubelet,
# kube-proxy), kwok (fake nodes for scale tests) and kubectl.
#
# They are compiled from Go modules pinned in platform/kubernetes/go.mod (no Docker,
# no downloaded release binaries) into
#   ${PLATFORM_CACHE:-$HOME/.cache/golden-path-portal}/kube-<version>/
# and reused while the stamp (hash of go.mod, go.sum, the wrapper sources, the build
# flags and the Go version) still matches. Prints the binary directory on stdout.
#
# Env: PLATFORM_CACHE      cache root (default ~/.cache/golden-path-portal)
#      KUBE_BUILD_PARALLEL go build -p value (default 2; lower it to save memory)
#      KUBE_BUILD_FORCE=1  rebuild even if the stamp matches
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v go >/dev/null 2>&1 || die "go is not on PATH. Install Go >= 1.26 (the machine's /usr/local/go/bin) and retry."
go_version="$(GOTOOLCHAIN=local go env GOVERSION)"
case "${go_version}" in
  go1.2[6-9]*|go1.[3-9][0-9]*) ;;
  *) die "Go ${go_version} is too old: platform/kubernetes needs go1.26 or newer (k8s.io/kubernetes $(kube_version) declares 'go 1.26.0')." ;;
esac

version="$(kube_version)"
bin_dir="$(kube_bin_dir)"
build_tags="providerless"
minor="${version#v1.}"; minor="${minor%%.*}"
# Stamp the release into the binaries as Kubernetes' own build does (hack/lib/version.sh);
# otherwise /version reports v0.0.0-master.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean"
done
parallel="${KUBE_BUILD_PARALLEL:-2}"

stamp_input() {
  (
    cd "${KUBERNETES_MODULE_DIR}"
    cat go.mod go.sum
    find cmd -type f -name '*.go' | LC_ALL=C sort | xargs cat
  )
  printf 'go=%s tags=%s ldflags=%s cgo=0 trimpath\n' "${go_version}" "${build_tags}" "${ldflags}"
}
stamp="$(stamp_input | sha256sum | awk '{print $1}')"

all_present() {
  local b
  for b in "${KUBE_BINARIES[@]}"; do [[ -x "${bin_dir}/${b}" ]] || return 1; done
  [[ -s "${bin_dir}/kwok-stages.yaml" ]]
}

if [[ "${KUBE_BUILD_FORCE:-0}" != 1 ]] && all_present && [[ -f "${bin_dir}/.stamp" ]] \
   && [[ "$(cat "${bin_dir}/.stamp")" == "${stamp}" ]]; then
  log "reusing Kubernetes ${version} binaries in ${bin_dir}"
  printf '%s\n' "${bin_dir}"
  exit 0
fi

log "building Kubernetes ${version} control plane, kubelet, kube-proxy, etcd, kwok and kubectl with ${go_version} (-p ${parallel}); a cold build takes ~15-25 min on 2 cores"
mkdir -p "${PLATFORM_CACHE}"
tmp_dir="$(mktemp -d "${PLATFORM_CACHE}/.build-${version}.XXXXXX")"
trap 'rm -rf "${tmp_dir}"' EXIT

start=$(date +%s)
(
  cd "${KUBERNETES_MODULE_DIR}"
  # GOTOOLCHAIN=local: never download another Go; -mod=readonly: go.sum must be complete.
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
  nice -n 10 go build -p "${parallel}" -trimpath -tags "${build_tags}" -ldflags "${ldflags}" \
    -o "${tmp_dir}/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy \
    sigs.k8s.io/kwok/cmd/kwok \
    ./cmd/etcd
) || die "go build failed (see the errors above). If modules could not be downloaded, check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))."
end=$(date +%s)

for b in "${KUBE_BINARIES[@]}"; do
  [[ -x "${tmp_dir}/${b}" ]] || die "build finished but ${b} is missing from ${tmp_dir}"
done

# The standalone kwok binary has no built-in Stages (kwokctl injects them), so ship
# kwok's own default stages (node-initialize, node-heartbeat-with-lease, pod-ready,
# pod-complete, pod-delete) from the exact kwok module version pinned in go.sum.
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
} > "${tmp_dir}/kwok-stages.yaml"
printf '%s\n' "${stamp}" > "${tmp_dir}/.stamp"
printf 'kubernetes=%s go=%s built=%s seconds=%s\n' "${version}" "${go_version}" "$(date -u +%FT%TZ)" "$((end - start))" > "${tmp_dir}/.build-info"
rm -rf "${bin_dir}"
mv "${tmp_dir}" "${bin_dir}"
trap - EXIT
log "built in $((end - start)) s -> ${bin_dir}"
printf '%s\n' "${bin_dir}"
