#!/usr/bin/env bash
# Build (or reuse) local-path-provisioner from the wrapper module
# platform/local-path-provisioner (go.mod pins github.com/rancher/local-path-provisioner)
# and its image localhost/golden-path/local-path-provisioner:<version>. Prints the OCI
# archive path. Its helper pods use the busybox image (platform/images/build.sh busybox).
#
# Binary: ${PLATFORM_CACHE}/local-path-provisioner-<version>/local-path-provisioner
# (GO_BUILD_FORCE=1 rebuilds). Image: ${PLATFORM_CACHE}/images/local-path-provisioner-*.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"

dir="${PLATFORM_DIR}/local-path-provisioner"
version="$(go_mod_version "${dir}" github.com/rancher/local-path-provisioner)"
# main.VERSION is what --version prints (upstream's scripts/build sets it the same way).
bin_dir="$(go_build "local-path-provisioner-${version}" "${dir}" "-s -w -X main.VERSION=${version}" github.com/rancher/local-path-provisioner)"
# In /usr/bin like upstream's image: its manifests call `local-path-provisioner` by name.
static_binary_image local-path-provisioner "${version}" "${bin_dir}/local-path-provisioner" /usr/bin/local-path-provisioner -- \
  --entrypoint '["/usr/bin/local-path-provisioner"]' --user 65532:65532 \
  --label "org.opencontainers.image.title=local-path-provisioner" --label "org.opencontainers.image.version=${version}" \
  --label "org.opencontainers.image.source=https://github.com/rancher/local-path-provisioner"
