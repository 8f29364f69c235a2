#!/usr/bin/env bash
# Build (or reuse) Flux's source-controller and kustomize-controller, the GitOps engine
# of the local golden path: github.com/fluxcd/{source,kustomize}-controller at the
# version go.mod requires (both `tool` directives of this wrapper module; its replace
# directives are explained in go.mod and README.md). Cached in
# ${PLATFORM_CACHE}/flux-<version>/ (GO_BUILD_FORCE=1 rebuilds). Prints the binary
# directory. Cold: ~10 min on 2 cores; warm: instant.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

here="${PLATFORM_DIR}/flux"
version="$(go_mod_version "${here}" github.com/fluxcd/source-controller)"
[[ "$(go_mod_version "${here}" github.com/fluxcd/kustomize-controller)" == "${version}" ]] \
  || die "${here}/go.mod must require source-controller and kustomize-controller at the same version"
# Upstream's Dockerfiles build with -ldflags "-s -w" and no version variables.
go_build "flux-${version}" "${here}" "-s -w" \
  github.com/fluxcd/source-controller=source-controller \
  github.com/fluxcd/kustomize-controller=kustomize-controller
