#!/usr/bin/env bash
# Build (or reuse) kube-network-policies, the NetworkPolicy enforcer of the real nodes:
# sigs.k8s.io/kube-network-policies (Kubernetes SIG Network), its own command, at the
# version go.mod requires, with the patches in patches/ applied (see each patch's
# header; today one: this kernel lacks nft "queue", so it queues with the xtables
# NFQUEUE target). Sources and binary are cached under
#   ${PLATFORM_CACHE}/src/kube-network-policies-<version>-<patch hash>/  (patched source,
#                                            plus a copy of this module that replaces
#                                            the upstream module with it)
#   ${PLATFORM_CACHE}/kube-network-policies-<version>-<patch hash>/  (the binary)
# Prints the binary directory.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"
require_cmd patch patch

here="${PLATFORM_DIR}/network-policies"
module=sigs.k8s.io/kube-network-policies
version="$(awk -v m="${module}" '$1 == "require" && $2 == m { print $3 }' "${here}/go.mod")"
[[ -n "${version}" ]] || die "cannot find 'require ${module} <version>' in ${here}/go.mod"
patch_hash="$(cat "${here}"/patches/*.patch "${here}/go.mod" "${here}/go.sum" "${here}/tools.go" | sha256sum | cut -c1-12)"
src="${PLATFORM_CACHE}/src/kube-network-policies-${version}-${patch_hash}"

if [[ ! -f "${src}/.complete" ]]; then
  upstream="$(cd "${here}" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download -json "${module}@${version}" | awk -F'"' '$2 == "Dir" { print $4 }')"
  [[ -d "${upstream}" ]] || die "could not download ${module}@${version} (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  rm -rf "${src}"
  mkdir -p "${src}/wrapper"
  cp -r "${upstream}" "${src}/upstream"
  chmod -R u+w "${src}/upstream"
  for p in "${here}"/patches/*.patch; do
    patch -s -p1 -d "${src}/upstream" < "${p}" || die "patch ${p} does not apply to ${module}@${version}"
  done
  cp "${here}/go.mod" "${here}/go.sum" "${here}/tools.go" "${src}/wrapper/"
  (cd "${src}/wrapper" && GOTOOLCHAIN=local go mod edit -replace "${module}=../upstream")
  touch "${src}/.complete"
fi

go_build "kube-network-policies-${version}-${patch_hash}" "${src}/wrapper" "-s -w" "${module}/cmd=kube-network-policies"
