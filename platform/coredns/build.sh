#!/usr/bin/env bash
# Build (or reuse) CoreDNS from the wrapper module platform/coredns (go.mod pins
# github.com/coredns/coredns; cmd/coredns picks the plugins) and its image
# localhost/golden-path/coredns:<version>. Prints the OCI archive path.
#
# Binary: ${PLATFORM_CACHE}/coredns-<version>/coredns (stamp: go.mod, go.sum, cmd/, flags,
# Go version; GO_BUILD_FORCE=1 rebuilds). Image: ${PLATFORM_CACHE}/images/coredns-*.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"

dir="${PLATFORM_DIR}/coredns"
version="$(go_mod_version "${dir}" github.com/coredns/coredns)"
# coremain prints GitCommit in `coredns -version`; there is no commit in a module zip.
bin_dir="$(go_build "coredns-${version}" "${dir}" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${version}-golden-path" ./cmd/coredns)"
# Non-root (65532) with the file capability to bind :53, as upstream's image does
# (setcap in its Dockerfile); the Deployment adds NET_BIND_SERVICE and drops the rest.
static_binary_image coredns "${version}" "${bin_dir}/coredns" /coredns --setcap cap_net_bind_service=+ep -- \
  --entrypoint '["/coredns"]' --user 65532:65532 \
  --expose 53/udp --expose 53/tcp --expose 9153/tcp \
  --label "org.opencontainers.image.title=coredns" --label "org.opencontainers.image.version=${version}" \
  --label "org.opencontainers.image.source=https://github.com/coredns/coredns"
