#!/usr/bin/env bash
# Run a generated repository on the local cluster's real nodes, from its source: build its
# images here (buildah, no registry), import them into the nodes, and apply its
# `overlays/local` with the platform's stand-ins for third-party images that cannot be
# pulled (PostgreSQL: platform/images/build.sh postgres).
#
# Usage:
#   platform/local-repo.sh build <repo>    build the images the local cluster needs (the
#                                          repository's own and the stand-ins); print the
#                                          OCI archives (for kind: kind load image-archive)
#   platform/local-repo.sh images <repo>   build them and import them into every real
#                                          node of the local cluster; print the references
#   platform/local-repo.sh render <repo>   print the manifests as the local cluster runs
#                                          them (overlays/local + stand-ins), apply nothing
#   platform/local-repo.sh apply <repo>    images, then the repository's own pre-deploy
#                                          step (scripts/create-secret.sh, where it has
#                                          one), server-side apply, and wait for every
#                                          Deployment to roll out
#
# The repository's overlays/local/kustomization.yaml (fastapi-skeletons/_shared/repo)
# names its images localhost/<image>:<tag>. Each is built from the folder holding its
# Dockerfile: the repository root when it has one image, else the folder <dir> whose name
# ends the image name (<name>-<dir>, as the templates name them: shop-backend <- backend/).
# The generated base manifests (k8s/) are never edited. A Dockerfile that declares
# `ARG APP_VERSION` (the blue-green template: one Dockerfile, one image per version) is
# built once per tag, with --build-arg APP_VERSION=<tag>; such tags must be X.Y.Z.
#
# Env: KUBECTL. images and apply work on the local cluster only (KUBECONFIG unset or
# its kubeconfig); for kind, k3d or minikube use build, load the archives, apply yourself.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Third-party images no registry serves here -> the platform image that stands in for it
# (same environment contract; platform/images/README.md).
declare -A STAND_INS=([postgres]=postgres [docker.io/library/postgres]=postgres)
# Where platform/images/build.sh names its images.
PLATFORM_IMAGES=localhost/golden-path

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

find_kubectl() {
  if [[ -n "${KUBECTL:-}" ]]; then return; fi
  local bin_dir; bin_dir="$(kube_bin_dir)"
  if [[ -x "${bin_dir}/kubectl" ]]; then KUBECTL="${bin_dir}/kubectl"
  elif command -v kubectl >/dev/null 2>&1; then KUBECTL="$(command -v kubectl)"
  else KUBECTL="$(bash "${PLATFORM_DIR}/kubernetes/build.sh")/kubectl"; fi
}
k() { "${KUBECTL}" "$@"; }

repo_dir() {
  local repo="${1:-}"
  [[ -n "${repo}" ]] || usage
  [[ -d "${repo}" ]] || die "'${repo}' is not a folder: give the generated repository's root"
  repo="$(cd "${repo}" && pwd)"
  [[ -f "${repo}/overlays/local/kustomization.yaml" ]] \
    || die "${repo} has no overlays/local/kustomization.yaml: it was generated before local overlays existed; copy fastapi-skeletons/_shared/repo/overlays/local into it (rendered)"
  printf '%s\n' "${repo}"
}

# Image references in rendered manifests, one per line, unique.
images_in() { sed -nE 's/^[[:space:]]*(- )?image:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\2/p' | sort -u; }

# image_name REF: the reference without tag or digest.
image_name() { local r="${1%@*}"; [[ "${r##*/}" == *:* ]] && r="${r%:*}"; printf '%s\n' "${r}"; }

# context_of REPO IMAGE_NAME (localhost/<image>): the folder its Dockerfile is in.
context_of() {
  local repo="$1" image="${2#localhost/}" dockerfiles=() d match=()
  mapfile -t dockerfiles < <(cd "${repo}" && find . -maxdepth 2 -name Dockerfile -not -path './.*/*' | sort)
  (( ${#dockerfiles[@]} > 0 )) || die "${repo} has no Dockerfile (looked in the root and its first-level folders)"
  if [[ "${dockerfiles[*]}" == ./Dockerfile ]]; then printf '%s\n' "${repo}"; return; fi
  for d in "${dockerfiles[@]}"; do
    d="$(dirname "${d}")"; d="${d#./}"
    [[ "${d}" != . && "${image}" == *"-${d}" ]] && match+=("${d}")
  done
  (( ${#match[@]} == 1 )) \
    || die "cannot tell which folder builds ${image}: its name must end with -<folder> for exactly one folder with a Dockerfile (found: ${dockerfiles[*]})"
  printf '%s/%s\n' "${repo}" "${match[0]}"
}

# A kustomization outside the repository that adds the stand-ins. kustomize refuses
# absolute resource paths, hence the relative ones.
platform_overlay() {
  local repo="$1" dir="$2" upstream ref
  {
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'
    printf 'resources:\n  - %s\n' "$(realpath --relative-to="${dir}" "${repo}/overlays/local")"
    printf 'images:\n'
    for upstream in "${!STAND_INS[@]}"; do
      ref="$(bash "${PLATFORM_DIR}/images/build.sh" --ref "${STAND_INS[${upstream}]}")"
      printf '  - name: %s\n    newName: %s\n    newTag: "%s"\n' "${upstream}" "${ref%:*}" "${ref##*:}"
    done
  } > "${dir}/kustomization.yaml"
}

render() {
  local repo; repo="$(repo_dir "${1:-}")"
  find_kubectl
  local dir out status=0
  dir="$(mktemp -d)"
  platform_overlay "${repo}" "${dir}"
  out="$(k kustomize "${dir}")" || status=$?
  rm -rf "${dir}"
  (( status == 0 )) || die "kustomize could not render ${repo}/overlays/local (above)"
  printf '%s\n' "${out}"
}

# per_version CONTEXT: whether its Dockerfile builds one image per version (ARG APP_VERSION).
per_version() { grep -Eq '^[[:space:]]*ARG[[:space:]]+APP_VERSION([[:space:]=]|$)' "$1/Dockerfile"; }

# Build every image the rendered manifests use that the nodes cannot pull: the
# repository's own (localhost/<image>) and the platform's stand-ins. Prints the archives.
build_images() {
  local repo="$1" manifests ref name archives=() ctx args
  # Not in a pipe or process substitution: a failure here must end the script.
  manifests="$(render "${repo}")" || exit 1
  # Refuse before building anything: a per-version image needs a version tag.
  while read -r ref; do
    name="$(image_name "${ref}")"
    [[ "${name}" == localhost/* && "${name}" != "${PLATFORM_IMAGES}/"* ]] || continue
    ctx="$(context_of "${repo}" "${name}")" || exit 1
    if per_version "${ctx}" && ! [[ "${ref##*:}" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
      die "${ref}: ${ctx#"${repo}"/}/Dockerfile builds one image per version (ARG APP_VERSION), so its tag must be a version X.Y.Z"
    fi
  done < <(images_in <<<"${manifests}")
  while read -r ref; do
    name="$(image_name "${ref}")"
    if [[ "${name}" == "${PLATFORM_IMAGES}/"* ]]; then
      log "${ref}: platform stand-in (platform/images/build.sh ${name##*/})"
      archives+=("$(bash "${PLATFORM_DIR}/images/build.sh" "${name##*/}")") || exit 1
    elif [[ "${name}" == localhost/* ]]; then
      ctx="$(context_of "${repo}" "${name}")" || exit 1
      args=()
      if per_version "${ctx}"; then args=(--build-arg "APP_VERSION=${ref##*:}"); fi
      log "${ref}: building ${ctx#"${repo}"/}/Dockerfile${args[*]:+ (${args[*]})}"
      archives+=("$(bash "${PLATFORM_DIR}/images/build-dockerfile.sh" "${ctx}" "${ref}" "${args[@]}")") || exit 1
    else
      die "${ref} would be pulled from a registry, which this machine cannot reach: add it to overlays/local (if it is built from this repository) or to STAND_INS in $0"
    fi
  done < <(images_in <<<"${manifests}")
  (( ${#archives[@]} > 0 )) || die "the manifests of ${repo}/overlays/local name no image"
  printf '%s\n' "${archives[@]}"
}

build() {
  local repo; repo="$(repo_dir "${1:-}")"
  ensure_platform_packages
  build_images "${repo}"
}

# The local cluster's nodes only: any other cluster loads images its own way.
require_local_cluster() {
  local repo="$1"
  [[ -z "${KUBECONFIG:-}" || "${KUBECONFIG}" == "${PLATFORM_STATE}/kubeconfig" ]] \
    || die "KUBECONFIG points at another cluster (${KUBECONFIG}): load the images with '$0 build ${repo}' and kind load image-archive / minikube image load, then kubectl apply -k ${repo}/overlays/local"
  (( $(running_nodes) > 0 )) \
    || die "the local cluster has no real nodes (start it: platform/cluster.sh start)"
  export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
}

images() {
  local repo built archives=()
  repo="$(repo_dir "${1:-}")"
  require_local_cluster "${repo}"
  ensure_platform_packages
  built="$(build_images "${repo}")" || exit 1
  mapfile -t archives <<<"${built}"
  bash "${PLATFORM_DIR}/node/images.sh" import "${archives[@]}"
  render "${repo}" | images_in
}

apply() {
  local repo; repo="$(repo_dir "${1:-}")"
  require_local_cluster "${repo}"
  find_kubectl
  images "${repo}" >/dev/null
  # The step its docs tell a user to run before applying (credentials that never go
  # into Git); idempotent, it keeps an existing Secret.
  if [[ -x "${repo}/scripts/create-secret.sh" ]]; then
    log "running ${repo}/scripts/create-secret.sh"
    KUBECTL="${KUBECTL}" "${repo}/scripts/create-secret.sh" >&2
  fi
  local applied ns name
  log "applying ${repo}/overlays/local (server-side apply)"
  applied="$(render "${repo}" | k apply --server-side --field-manager=golden-path-local-repo -f - -o json)" \
    || die "kubectl apply refused the manifests (above)"
  while read -r ns name; do
    log "waiting for deployment ${ns}/${name}"
    k -n "${ns}" rollout status "deployment/${name}" --timeout=180s >&2 \
      || die "deployment ${ns}/${name} did not roll out: kubectl -n ${ns} describe deployment ${name}; kubectl -n ${ns} get events --sort-by=.lastTimestamp"
  done < <(jq -r '(.items // [.])[] | select(.kind == "Deployment") | "\(.metadata.namespace) \(.metadata.name)"' <<<"${applied}")
}

case "${1:-}" in
  build|images|render|apply) cmd="$1"; shift; "${cmd}" "$@" ;;
  *) usage ;;
esac
