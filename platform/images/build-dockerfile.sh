#!/usr/bin/env bash
# Build a repository's own Dockerfile without a daemon or a registry, and print the OCI
# archive path (importable with `ctr -n k8s.io images import`).
#
# usage: platform/images/build-dockerfile.sh <context dir> <image ref> [--file Dockerfile]
#                                            [--build-arg K=V ...] [--layers]
#
# - buildah (`--isolation chroot`, storage under ${PLATFORM_CACHE}/images/buildah/),
#   FROM images come only from that local storage (--pull=never).
# - FROM names resolve as Docker resolves them (node:x = docker.io/library/node:x); each
#   one a local base stands in for (`build.sh --stands-for`, e.g. node:24.11.1-bookworm-slim)
#   is built or reused and tagged with that name in the build storage only. Any other
#   literal FROM fails before the build: nothing could pull it.
# - PYTHON_IMAGE defaults to the local python base (platform/images/build.sh python), so
#   the generated FastAPI Dockerfiles (ARG PYTHON_IMAGE) build unchanged.
# - RUN steps get the host's CA bundle (PIP_CERT / REQUESTS_CA_BUNDLE / SSL_CERT_FILE,
#   else /etc/ssl/certs/ca-certificates.crt) bind-mounted over the image's
#   /etc/ssl/certs/ca-certificates.crt, and the host's pip settings (pip config files
#   and PIP_* variables, read from this environment) as /etc/pip.conf. Both are mounts:
#   neither ends up in a layer. On the local node base, yarn (which, being Node, keeps its
#   own CA list) gets a ~/.yarnrc.yml mounted for user node: httpsCaFilePath = that
#   bundle, and the host's registry and proxy settings if this environment has any
#   (YARN_NPM_REGISTRY_SERVER, YARN_HTTP(S)_PROXY, or the same keys in ~/.yarnrc.yml).
#   buildah 1.28's `--env` would not help: it reaches the image's config, not RUN steps.
# - `RUN --mount=type=cache` folders persist between builds under
#   <store>/tmp/buildah-cache/ (buildah keeps them in TMPDIR), e.g. the portal's yarn
#   download cache.
# - Cached in ${PLATFORM_CACHE}/images/dockerfile/<name>-<tag>-<key>/image.oci.tar, the key
#   hashing the context's files that .dockerignore admits (context_files.py), the
#   Dockerfile, the build args and the base images' digests.
#   IMAGES_BUILD_FORCE=1 rebuilds.
# - --layers: one layer per instruction, and buildah's layer cache kept between builds
#   (a step whose instruction and inputs are unchanged is reused: the portal's
#   `yarn install` when only sources change), in a store of its own
#   (${PLATFORM_CACHE}/images/buildah-<name>/), dropped when it outgrows
#   IMAGES_LAYER_CACHE_MAX_GIB (default 12). Without it, a build is one layer over the
#   base and leaves no intermediate images.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-images.sh"

require_cmd buildah buildah
require_cmd unshare util-linux
require_cmd python3 python3

# Everything buildah mounts (overlay layers, the chroot's /proc, /dev, bind mounts)
# happens in a private mount namespace and vanishes with this script, even if it is
# killed.
if [[ "${GP_PRIVATE_MOUNT_NS:-}" != self ]]; then
  exec unshare --mount --propagation private env GP_PRIVATE_MOUNT_NS=self "$0" "$@"
fi

ctx="${1:-}" ref="${2:-}"
[[ -n "${ctx}" && -n "${ref}" ]] || die "usage: $0 <context dir> <image ref> [--file Dockerfile] [--build-arg K=V ...]"
shift 2
[[ -d "${ctx}" ]] || die "context '${ctx}' is not a folder"
ctx="$(cd "${ctx}" && pwd)"
[[ "${ref}" =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+:[A-Za-z0-9_.-]+$ ]] || die "image ref '${ref}' must be host/path:tag, e.g. ${IMAGE_PREFIX}/hello-web:0.1.0"
dockerfile="${ctx}/Dockerfile"
build_args=()
layers=false
while (($#)); do
  case "$1" in
    --file|-f) dockerfile="$2"; shift 2 ;;
    --build-arg) build_args+=("$2"); shift 2 ;;
    --layers) layers=true; shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ -f "${dockerfile}" ]] || die "no Dockerfile at ${dockerfile}"

# ---- base images: "<local ref> <archive> <name in the build storage>" per line -------
bases=()
# The local python base for ARG PYTHON_IMAGE, unless the caller names another one.
if grep -Eq '^\s*ARG\s+PYTHON_IMAGE\b' "${dockerfile}" \
  && ! printf '%s\n' "${build_args[@]+"${build_args[@]}"}" | grep -q '^PYTHON_IMAGE='; then
  python_ref="$("${IMAGES_DIR}/build.sh" --ref python)"
  bases+=("${python_ref} $("${IMAGES_DIR}/build.sh" python) ${python_ref}")
  build_args+=("PYTHON_IMAGE=${python_ref}")
fi
# Literal FROM references (not a stage, not an ARG, not scratch), as Docker names them.
while read -r from; do
  base="$("${IMAGES_DIR}/build.sh" --stands-for "${from}")" \
    || die "FROM ${from} (${dockerfile}): no registry is reachable and no local base stands in for it (platform/images/build.sh --list)"
  [[ "${from}" == */* ]] || from="library/${from}"
  [[ "${from%%/*}" == *[.:]* || "${from%%/*}" == localhost ]] || from="docker.io/${from}"
  bases+=("$("${IMAGES_DIR}/build.sh" --ref "${base}") $("${IMAGES_DIR}/build.sh" "${base}") ${from}")
done < <(awk '
  toupper($1) == "FROM" {
    i = 2; while ($i ~ /^--/) i++
    img = $i; if (tolower($(i + 1)) == "as") stage[tolower($(i + 2))] = 1
    if (img !~ /[$]/ && img != "scratch" && !(tolower(img) in stage) && !(img in seen)) { seen[img] = 1; print img }
  }' "${dockerfile}")
base_digest() { tar -xOf "$1" index.json | jq -r '.manifests[0].digest'; }

name="${ref##*/}"; tag="${name##*:}"; name="${name%%:*}"
key="$(
  {
    cat "${BASH_SOURCE[0]}" "${IMAGES_DIR}/lib-images.sh"
    buildah --version
    printf 'ref=%s layers=%s\n' "${ref}" "${layers}"
    for b in "${bases[@]+"${bases[@]}"}"; do
      read -r _ b_archive b_name <<<"${b}"
      printf 'base=%s %s\n' "${b_name}" "$(base_digest "${b_archive}")"
    done
    printf 'arg=%s\n' "${build_args[@]+"${build_args[@]}"}"
    context_key "${ctx}" "${dockerfile}"
  } | sha256_of_stream
)"
IMAGES_CACHE="${IMAGES_CACHE}/dockerfile"
# Two callers building the same image (two test files, a test and the Create flow) build
# it once: the second waits here, then finds it in the cache.
take_build_lock "image-${name}-${tag}"
if archive="$(image_cached "${name}" "${tag}" "${key}")"; then
  log "reusing ${ref} (${archive})"
  printf '%s\n' "${archive}"
  exit 0
fi

# A layered build keeps its layer cache in a store of its own: the other builds' prune
# (and theirs) never touch it.
STORE="${PLATFORM_CACHE}/images/buildah"
[[ "${layers}" == false ]] || STORE="${PLATFORM_CACHE}/images/buildah-${name}"
mkdir -p "${STORE}/root" "${STORE}/run" "${IMAGES_CACHE}"
work="$(mktemp -d "${IMAGES_CACHE}/.build-${name}.XXXXXX")"
trap 'rm -rf "${work:?}"' EXIT
start="$(now_ms)"

# ---- the host's TLS trust and pip settings, for RUN steps only -----------------------
ca_bundle="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
[[ -s "${ca_bundle}" ]] || die "CA bundle ${ca_bundle} not found: set PIP_CERT/SSL_CERT_FILE or apt-get install -y ca-certificates"
CA_IN_BUILD=/etc/ssl/certs/ca-certificates.crt
volumes=(--volume "${ca_bundle}:${CA_IN_BUILD}:ro")
# pip's own precedence: config files (site, user, PIP_CONFIG_FILE), then PIP_* variables.
# Local paths (find-links folders) are mounted at the same path, read-only.
python3 - "${work}/pip.conf" "${CA_IN_BUILD}" > "${work}/pip-mounts" <<'PY'
import configparser, os, sys
out, ca = sys.argv[1], sys.argv[2]
cfg = configparser.ConfigParser(interpolation=None)
files = ["/etc/xdg/pip/pip.conf", "/etc/pip.conf",
         os.path.expanduser("~/.pip/pip.conf"), os.path.expanduser("~/.config/pip/pip.conf")]
if os.environ.get("PIP_CONFIG_FILE"):
    files.append(os.environ["PIP_CONFIG_FILE"])
cfg.read([f for f in files if os.path.isfile(f)])
if not cfg.has_section("global"):
    cfg.add_section("global")
for k, v in os.environ.items():
    if k.startswith("PIP_") and k not in ("PIP_CONFIG_FILE", "PIP_REQUIRE_VIRTUALENV", "PIP_TARGET", "PIP_PREFIX", "PIP_USER"):
        cfg.set("global", k[4:].lower().replace("_", "-"), v)
# The CA inside the build is the host's bundle mounted at the standard path.
for section in cfg.sections():
    if cfg.has_option(section, "cert"):
        cfg.set(section, "cert", ca)
cfg.set("global", "cert", ca)
mounts = set()
for section in cfg.sections():
    for opt in ("find-links",):
        if cfg.has_option(section, opt):
            kept = []
            for item in cfg.get(section, opt).split():
                path = item[len("file://"):] if item.startswith("file://") else item
                if "://" in item and not item.startswith("file://"):
                    kept.append(item)
                elif os.path.isdir(path) and os.listdir(path):
                    kept.append(item)
                    mounts.add(os.path.abspath(path))
                # an empty or missing local folder is dropped: it would only be an empty mount
            if kept:
                cfg.set(section, opt, " ".join(kept))
            else:
                cfg.remove_option(section, opt)
with open(out, "w") as f:
    cfg.write(f)
for m in sorted(mounts):
    print(m)
PY
volumes+=(--volume "${work}/pip.conf:/etc/pip.conf:ro")
while read -r m; do
  [[ -n "${m}" ]] && volumes+=(--volume "${m}:${m}:ro")
done < "${work}/pip-mounts"
log "pip settings for RUN steps (from this environment): $(grep -v '^\s*$' "${work}/pip.conf" | tr '\n' ' ')"
# Yarn's settings for user node, only on the local node base (whose image has the file,
# so the mount leaves nothing behind). Node keeps its own CA list: httpsCaFilePath.
if printf '%s\n' "${bases[@]+"${bases[@]}"}" | grep -q ' docker\.io/library/node:'; then
  {
    printf 'httpsCaFilePath: %s\n' "${CA_IN_BUILD}"
    for k in npmRegistryServer httpProxy httpsProxy; do
      v="YARN_$(sed -E 's/([A-Z])/_\1/g' <<<"${k}" | tr '[:lower:]' '[:upper:]')"
      if [[ -n "${!v:-}" ]]; then
        printf '%s: "%s"\n' "${k}" "${!v}"
      elif [[ -f "${HOME}/.yarnrc.yml" ]]; then
        grep -E "^${k}:" "${HOME}/.yarnrc.yml" || true
      fi
    done
  } > "${work}/yarnrc.yml"
  volumes+=(--volume "${work}/yarnrc.yml:/home/node/.yarnrc.yml:ro")
  log "yarn settings for RUN steps as node (from this environment): $(tr '\n' ' ' < "${work}/yarnrc.yml")"
fi

# Short names resolve on docker.io as in Docker (only in local storage: --pull=never).
printf 'unqualified-search-registries = ["docker.io"]\n' > "${work}/registries.conf"
# A RUN step sets up buildah's network backend, which would create /etc/cni/net.d on the
# host (chroot isolation uses the host's network; the folder stays empty): its config
# folder is the store's instead, so a build leaves the host as it found it.
printf '[network]\nnetwork_config_dir = "%s/cni/net.d"\n' "${STORE}" > "${work}/containers.conf"
mkdir -p "${STORE}/tmp"
bah() {
  TMPDIR="${STORE}/tmp" CONTAINERS_REGISTRIES_CONF="${work}/registries.conf" CONTAINERS_CONF="${work}/containers.conf" \
    buildah --root "${STORE}/root" --runroot "${STORE}/run" --storage-driver overlay "$@"
}

# ---- the base images into buildah's store, once per digest -----------------------------
for b in "${bases[@]+"${bases[@]}"}"; do
  read -r b_ref b_archive b_name <<<"${b}"
  digest="$(base_digest "${b_archive}")"
  marker="${STORE}/base-${b_name//[\/:]/_}"
  if [[ "$(cat "${marker}" 2>/dev/null)" != "${digest}" ]] || ! bah inspect --type image "${b_name}" >/dev/null 2>&1; then
    log "loading ${b_ref} into buildah's store as ${b_name}"
    bah rmi -f "${b_name}" >/dev/null 2>&1 || true
    id="$(bah pull --quiet "oci-archive:${b_archive}")"
    bah tag "${id}" "${b_name}"
    printf '%s\n' "${digest}" > "${marker}"
  fi
done

# ---- build and export ------------------------------------------------------------------
log "buildah build ${ref} from ${ctx} ($(basename "${dockerfile}"), ${build_args[*]-no build args})"
ba=()
for a in "${build_args[@]+"${build_args[@]}"}"; do ba+=(--build-arg "${a}"); done
# --layers=false: no intermediate images to prune; the archive cache is the build cache.
bah build --isolation chroot --pull=never --format oci --layers="${layers}" --rm --force-rm \
  "${ba[@]}" "${volumes[@]}" --file "${dockerfile}" --tag "${ref}" "${ctx}" >&2 \
  || die "buildah build of ${ref} failed (see above)"
bah push --quiet "${ref}" "oci:${work}/layout:${ref}" >&2
if [[ "${layers}" == true ]]; then
  # rmi of an image's only name would remove it and, like docker rmi, its untagged
  # parents: the final stage's layer cache. A second name makes it a mere untag; the
  # next build moves that name on.
  bah tag "${ref}" "${IMAGE_PREFIX}/${name}:layer-cache"
fi
bah rmi "${ref}" >/dev/null
store_gib="$(du -s --block-size=1G "${STORE}/root" | cut -f1)"
if [[ "${layers}" == false || "${store_gib}" -gt "${IMAGES_LAYER_CACHE_MAX_GIB:-12}" ]]; then
  [[ "${layers}" == false ]] || log "buildah's store holds ${store_gib} GiB: dropping its layer cache"
  bah rmi --prune >/dev/null 2>&1 || true
fi

# containers/image names the image only with org.opencontainers.image.ref.name; add
# containerd's own annotation so `ctr images import` names it without --base-name.
jq --arg ref "${ref}" '.manifests |= map(.annotations = ((.annotations // {}) + {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $ref}))' \
  "${work}/layout/index.json" > "${work}/index.json"
mv "${work}/index.json" "${work}/layout/index.json"
(cd "${work}/layout" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) > "${work}/list"
tar -C "${work}/layout" --no-recursion --verbatim-files-from -T "${work}/list" \
  --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
  --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "${work}/image.oci.tar"
secs="$(secs_since "${start}")"
archive="$(image_store "${name}" "${tag}" "${key}" "${work}/image.oci.tar" "${secs}")"
log "built ${ref} in ${secs} s ($(( $(stat -c %s "${archive}") / 1048576 )) MiB) -> ${archive}"
printf '%s\n' "${archive}"
