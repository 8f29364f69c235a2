#!/usr/bin/env bash
# Build (or reuse) metrics-server from the wrapper module platform/metrics-server (go.mod
# pins sigs.k8s.io/metrics-server) and its image localhost/golden-path/metrics-server:<version>.
# Prints the OCI archive path.
#
# Binary: ${PLATFORM_CACHE}/metrics-server-<version>/metrics-server (GO_BUILD_FORCE=1
# rebuilds). Image: ${PLATFORM_CACHE}/images/metrics-server-*.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"

dir="${PLATFORM_DIR}/metrics-server"
version="$(go_mod_version "${dir}" sigs.k8s.io/metrics-server)"
# The same -X flags as upstream's Makefile: /version and --version report the release.
ldflags="-s -w -X k8s.io/client-go/pkg/version.gitVersion=${version} -X k8s.io/client-go/pkg/version.gitTreeState=clean"
ldflags+=" -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/component-base/version.gitTreeState=clean"
bin_dir="$(go_build "metrics-server-${version}" "${dir}" "${ldflags}" sigs.k8s.io/metrics-server/cmd/metrics-server)"
static_binary_image metrics-server "${version}" "${bin_dir}/metrics-server" /metrics-server -- \
  --entrypoint '["/metrics-server"]' --user 65532:65532 --expose 10250/tcp \
  --label "org.opencontainers.image.title=metrics-server" --label "org.opencontainers.image.version=${version}" \
  --label "org.opencontainers.image.source=https://github.com/kubernetes-sigs/metrics-server"
