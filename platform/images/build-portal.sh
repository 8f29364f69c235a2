#!/usr/bin/env bash
# Build (or reuse) the portal's own image from packages/backend/Dockerfile, with the
# repository root as the context, and print its OCI archive path.
#
# usage: platform/images/build-portal.sh           build or reuse, print the archive
#        platform/images/build-portal.sh --ref     the image reference only (no build)
#
# The reference is localhost/golden-path/portal:<root package.json version>-<12 hex of
# the context key>: the key hashes the Dockerfile, .dockerignore and every file that
# .dockerignore lets into the build (context_files.py). A commit that changes nothing
# the build reads (platform scripts, manifests, tests, CI) keeps the tag and reuses the
# archive; a backend, app, plugin, template or docs change gets a new tag, which a
# deployment then rolls out. The FROM node:24.11.1-bookworm-slim is the local node base
# (build.sh node); see build-dockerfile.sh for the registries, CA and caches. The two
# newest portal archives stay in the cache, older ones are removed.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-images.sh"

DOCKERFILE="${REPO_ROOT}/packages/backend/Dockerfile"
KEEP=2

portal_ref() {
  local version key
  version="$(jq -r .version "${REPO_ROOT}/package.json")"
  key="$(context_key "${REPO_ROOT}" "${DOCKERFILE}")"
  printf '%s/portal:%s-%s\n' "${IMAGE_PREFIX}" "${version}" "${key:0:12}"
}

case "${1:-}" in
  --ref) portal_ref; exit 0 ;;
  "") ;;
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac

ref="$(portal_ref)"
archive="$("${IMAGES_DIR}/build-dockerfile.sh" "${REPO_ROOT}" "${ref}" --file "${DOCKERFILE}" --layers)"
# Each source change is a new tag (image_store keeps other tags): keep the newest few.
find "${IMAGES_CACHE}/dockerfile" -mindepth 1 -maxdepth 1 -type d -name 'portal-*' -printf '%T@ %p\n' \
  | sort -rn | tail -n +"$((KEEP + 1))" | while read -r _ old; do
    [[ "${old}" == "$(dirname "${archive}")" ]] || { log "removing old portal build ${old}"; rm -rf "${old}"; }
  done
log "${ref}"
printf '%s\n' "${archive}"
