#!/usr/bin/env bash
# Shared by platform/images/* and the add-on folders (coredns, metrics-server,
# local-path-provisioner). Source it after platform/lib.sh; do not run it.
#
# Caches (never inside the repo):
#   ${PLATFORM_CACHE}/images/<name>-<tag>-<key12>/image.oci.tar   OCI archives
#   ${PLATFORM_CACHE}/images/rootfs/<name>-<key12>.tar             mmdebstrap root filesystems
#   ${PLATFORM_CACHE}/<component>-<version>/                       Go binaries + .stamp
# A key is the sha256 of everything that shapes the output (recipe, sources, tool
# versions), so an unchanged input is reused and a changed one is rebuilt.
# shellcheck disable=SC2034

IMAGES_DIR="${PLATFORM_DIR}/images"
IMAGES_CACHE="${PLATFORM_CACHE}/images"
# Every image built here is named localhost/golden-path/<name>:<tag>: "localhost/" is a
# registry host that never resolves to a real registry, so nothing can pull over it.
IMAGE_PREFIX="localhost/golden-path"

# Go builds (go_build, go_mod_version) are shared with the rest of the platform.
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

sha256_of_stream() { sha256sum | awk '{print $1}'; }

now_ms() { date +%s%3N; }
# secs_since <start ms>: "12.3"
secs_since() { awk -v s="$1" -v e="$(now_ms)" 'BEGIN { printf "%.1f", (e - s) / 1000 }'; }

# context_key <context dir> <Dockerfile>: the sha256 of the Dockerfile and of what
# .dockerignore lets into the build (context_files.py): a change to anything it keeps
# out (tests, platform scripts, manifests) cannot change the image and reuses it.
context_key() {
  {
    sha256sum < "$2"
    [[ ! -f "$1/.dockerignore" ]] || sha256sum < "$1/.dockerignore"
    (cd "$1" && python3 "${IMAGES_DIR}/context_files.py" . | xargs -0 -r sha256sum)
  } | sha256_of_stream
}

# image_dir <name> <tag> <key>: cache folder of one image build.
image_dir() { printf '%s/%s-%s-%s\n' "${IMAGES_CACHE}" "$1" "$2" "${3:0:12}"; }

# image_cached <name> <tag> <key>: print the archive and succeed if it is cached.
image_cached() {
  local d
  d="$(image_dir "$@")"
  if [[ "${IMAGES_BUILD_FORCE:-0}" != 1 && -s "${d}/image.oci.tar" && -f "${d}/.complete" ]]; then
    printf '%s\n' "${d}/image.oci.tar"
    return 0
  fi
  return 1
}

# image_store <name> <tag> <key> <built archive> <seconds>: move a finished archive into
# the cache (atomically: a crash never leaves a half archive that looks complete), drop
# older builds of the same name and tag (other tags stay: blue and green run side by side)
# and print the path. mkimage.sh's <archive>.info (layer
# sizes) goes into .build-info.
image_store() {
  local name="$1" tag="$2" key="$3" archive="$4" secs="$5" d old
  d="$(image_dir "${name}" "${tag}" "${key}")"
  rm -rf "${d}.tmp" && mkdir -p "${d}.tmp"
  mv "${archive}" "${d}.tmp/image.oci.tar"
  printf 'image=%s/%s:%s key=%s seconds=%s bytes=%s built=%s\n' "${IMAGE_PREFIX}" "${name}" "${tag}" \
    "${key}" "${secs}" "$(stat -c %s "${d}.tmp/image.oci.tar")" "$(date -u +%FT%TZ)" > "${d}.tmp/.build-info"
  if [[ -f "${archive}.info" ]]; then cat "${archive}.info" >> "${d}.tmp/.build-info"; rm -f "${archive}.info"; fi
  : > "${d}.tmp/.complete"
  rm -rf "${d}" && mv "${d}.tmp" "${d}"
  for old in "${IMAGES_CACHE}/${name}-"*; do
    [[ -d "${old}" && "${old}" != "${d}" ]] || continue
    # Only older builds of exactly this name and tag (not "<name>-something", not other tags).
    grep -qs "^image=${IMAGE_PREFIX}/${name}:${tag} " "${old}/.build-info" && rm -rf "${old}"
  done
  printf '%s\n' "${d}/image.oci.tar"
}

# ---------------------------------------------------------------------------------------
# static_binary_image <name> <tag> <binary> <path in image> [--setcap CAPS] [-- mkimage options...]
#   An image of one static binary plus /etc/passwd and /etc/group (root and
#   nonroot 65532, distroless' numbering) and a /tmp; cached by the binary's hash and the
#   options. --setcap sets file capabilities (e.g. cap_net_bind_service=+ep), which
#   survive a non-root user and no_new_privs as long as the container's bounding and
#   permitted sets still hold them (Kubernetes: capabilities.add). Prints the archive.
# ---------------------------------------------------------------------------------------
static_binary_image() {
  local name="$1" tag="$2" bin="$3" dest="$4"
  shift 4
  local caps="" key archive start
  if [[ "${1:-}" == --setcap ]]; then caps="$2"; shift 2; fi
  [[ "${1:-}" == -- ]] && shift
  [[ -x "${bin}" ]] || die "binary ${bin} is missing"
  key="$(
    {
      sha256sum < "${bin}"
      printf '%s\n' "${name}" "${tag}" "${dest}" "${caps}" "$@"
      cat "${IMAGES_DIR}/mkimage.sh" "${IMAGES_DIR}/lib-images.sh"
    } | sha256_of_stream
  )"
  # The background prebuild and a stage may ask for the same add-on image at once: one
  # builds it, the other waits and reuses it (image_store's temporary folder is shared).
  take_build_lock "image-${name}-${tag}"
  if archive="$(image_cached "${name}" "${tag}" "${key}")"; then
    log "reusing ${IMAGE_PREFIX}/${name}:${tag} (${archive})"
    printf '%s\n' "${archive}"
    return 0
  fi
  start="$(now_ms)"
  mkdir -p "${IMAGES_CACHE}"
  (
    work="$(mktemp -d "${IMAGES_CACHE}/.build-${name}.XXXXXX")"
    trap 'rm -rf "${work}"' EXIT
    r="${work}/root"
    mkdir -p "${r}$(dirname "${dest}")" "${r}/etc" "${r}/tmp" "${r}/home/nonroot"
    chmod 1777 "${r}/tmp"
    chown 65532:65532 "${r}/home/nonroot"
    install -m 0755 "${bin}" "${r}${dest}"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "${r}/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' > "${r}/etc/group"
    if [[ -n "${caps}" ]]; then
      require_cmd setcap libcap2-bin
      setcap "${caps}" "${r}${dest}"
    fi
    "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/${name}:${tag}" --out "${work}/image.oci.tar" --layer "${r}" "$@"
    image_store "${name}" "${tag}" "${key}" "${work}/image.oci.tar" "$(secs_since "${start}")" > "${work}/path"
    cat "${work}/path"
  ) || die "building the ${name} image failed (see above)"
}
