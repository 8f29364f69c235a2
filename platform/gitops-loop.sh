#!/usr/bin/env bash
# The GitOps template's delivery loop on the local cluster (fastapi-gitops): what its
# deploy workflow does on GitHub, with the build done here, and Flux on the local cluster
# doing the deployment. Every Git change goes through the repository's own scripts
# (scripts/promote.sh, scripts/validate-deployment.sh), exactly as the workflow runs them.
#
# Usage:
#   platform/gitops-loop.sh clone NAME DIR     clone golden-path/NAME from the local Git
#                                              server into DIR (the portal's token)
#   platform/gitops-loop.sh release DIR        the workflow's test and build jobs for DIR's
#                                              HEAD: pytest, build the image here, import it
#                                              into the nodes by digest; then its dev job:
#                                              scripts/promote.sh dev <digest> (validated,
#                                              committed, pushed). Prints the digest.
#   platform/gitops-loop.sh promote DIR ENV    staging or prod takes the digest the
#                                              environment before it runs: what merging the
#                                              promotion pull request does (PROMOTE_BY=commit)
#   platform/gitops-loop.sh wait DIR ENV [--unhealthy]
#                                              until Flux has applied main's HEAD to ENV and
#                                              reports it Ready, then the post-deploy checks
#                                              (scripts/validate-deployment.sh post-deploy);
#                                              --unhealthy: until Flux reports that commit's
#                                              health check failed. Prints the seconds taken.
#
# What differs from GitHub: no Trivy scan (no vulnerability database offline) and no
# registry (the nodes get the image by import, under <image>@<digest> as a pull records
# it); Flux fetches every 10 s instead of being told by a webhook.
# Env: GITEA_HOME (the Git server's data, as make start sets it), WAIT_TIMEOUT (s, 300),
#      RELEASE_SKIP_TESTS=1 (release skips pytest: make test's short loop, whose templates
#      stage already ran the same suite on the same rendered repository).
# Environments are registered as <name>-<env> (the template's Create, or the repository's
# flux/ with those names). Full walk-through: fastapi-skeletons/gitops/docs/gitops.md.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=platform/lib/oci.sh
source "${PLATFORM_DIR}/lib/oci.sh"

FLUX_NAMESPACE="${FLUX_NAMESPACE:-flux-system}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300}"
export KUBECONFIG="${KUBECONFIG:-${PLATFORM_STATE}/kubeconfig}"

usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
k() { kubectl "$@"; }

repo_in() {
  local dir="${1:-}"
  [[ -n "${dir}" ]] || usage
  [[ -x "${dir}/scripts/promote.sh" && -f "${dir}/overlays/dev/kustomization.yaml" ]] \
    || die "${dir} is not a clone of a fastapi-gitops repository (no scripts/promote.sh or overlays/dev)"
  (cd "${dir}" && pwd)
}

# The service's name: the GitRepository/Kustomization prefix and the Deployment's name.
app_of() { sed -nE 's/^APP="?([a-z0-9-]+)"?$/\1/p' "$1/scripts/validate-deployment.sh" | head -n1; }

# The image the overlays pin by digest (images[0].name of overlays/dev).
image_of() {
  sed -nE 's/^[[:space:]]*- name:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\1/p' \
    "$1/overlays/dev/kustomization.yaml" | head -n1
}

clone() {
  local name="${1:-}" dir="${2:-}"
  [[ -n "${name}" && -n "${dir}" ]] || usage
  [[ ! -e "${dir}" ]] || die "${dir} exists: give a new folder"
  eval "$(bash "${PLATFORM_DIR}/gitea/gitea.sh" env)"
  : "${GITEA_TOKEN:?the Git server printed no token (is it running? platform/gitea/gitea.sh status)}"
  local header
  header="AUTHORIZATION: basic $(printf 'golden-path-loop:%s' "${GITEA_TOKEN}" | base64 | tr -d '\n')"
  git -c "http.extraheader=${header}" clone -q "${GITEA_URL}/${GITEA_ORG}/${name}.git" "${dir}" \
    || die "could not clone ${GITEA_ORG}/${name} from ${GITEA_URL}"
  # The clone pushes with the same token (kept in its own .git/config, never committed).
  git -C "${dir}" config http.extraheader "${header}"
  git -C "${dir}" config user.name "golden-path-loop"
  git -C "${dir}" config user.email "golden-path-loop@localhost"
  log "cloned ${GITEA_ORG}/${name} into ${dir}"
}

release() {
  local dir image sha archive reference venv t0
  dir="$(repo_in "${1:-}")"
  image="$(image_of "${dir}")"
  [[ -n "${image}" ]] || die "${dir}/overlays/dev/kustomization.yaml names no image"
  git -C "${dir}" pull -q --rebase origin main
  sha="$(git -C "${dir}" rev-parse --short=12 HEAD)"
  t0="$(date +%s.%N)"
  # shellcheck source=scripts/lib/python.sh
  source "${REPO_ROOT}/scripts/lib/python.sh"
  venv="$(cd "${dir}" && venv_for requirements.txt requirements-dev.txt)"
  if [[ "${RELEASE_SKIP_TESTS:-0}" == 1 ]]; then
    log "test: skipped (RELEASE_SKIP_TESTS=1)"
  else
    log "test: pytest in ${dir} (the workflow's test job)"
    (cd "${dir}" && pytest_isolated "${venv}" >&2) \
      || die "the tests of ${sha} failed: nothing was built or deployed"
  fi
  log "build: ${image}:git-${sha} (buildah here instead of buildx and GHCR)"
  archive="$(bash "${PLATFORM_DIR}/images/build-dockerfile.sh" "${dir}" "${image}:git-${sha}")"
  bash "${PLATFORM_DIR}/node/images.sh" import "${archive}" >&2
  reference="$(oci_archive_digest_reference "${archive}")"
  [[ "${reference}" == *@sha256:* ]] || die "the build of ${sha} has no digest (${archive})"
  log "built and imported ${reference} in $(elapsed "${t0}" "$(date +%s.%N)") s"
  (cd "${dir}" && PYTHON="${venv}/bin/python" scripts/promote.sh dev "${reference#*@}" >&2)
  printf '%s\n' "${reference#*@}"
}

promote() {
  local dir env="${2:-}"
  dir="$(repo_in "${1:-}")"
  [[ "${env}" == staging || "${env}" == prod ]] || die "promote: staging or prod, not '${env}'"
  git -C "${dir}" pull -q --rebase origin main
  (cd "${dir}" && PROMOTE_BY=commit scripts/promote.sh "${env}")
}

# kustomization_json NAME: the Kustomization as the API server has it.
kustomization_json() { k -n "${FLUX_NAMESPACE}" get kustomizations.kustomize.toolkit.fluxcd.io "$1" -o json; }

wait_env() {
  local dir env="${2:-}" expect=healthy app name commit t0 now json attempted ready reason message
  dir="$(repo_in "${1:-}")"
  [[ "${3:-}" == --unhealthy ]] && expect=unhealthy
  [[ "${env}" =~ ^(dev|staging|prod)$ ]] || die "wait: dev, staging or prod, not '${env}'"
  app="$(app_of "${dir}")"
  name="${app}-${env}"
  git -C "${dir}" fetch -q origin main
  commit="$(git -C "${dir}" rev-parse origin/main)"
  t0="$(date +%s.%N)"
  log "waiting for Flux to apply ${commit:0:12} to ${env} (kustomization ${FLUX_NAMESPACE}/${name}), expecting it ${expect}"
  while :; do
    json="$(kustomization_json "${name}")" \
      || die "no Kustomization ${FLUX_NAMESPACE}/${name}: register the environments first (the template's Create with Deploy with Flux, or kubectl apply -k flux/)"
    attempted="$(jq -r '.status.lastAttemptedRevision // ""' <<<"${json}")"
    ready="$(jq -r '[.status.conditions[]? | select(.type == "Ready")][0].status // "Unknown"' <<<"${json}")"
    reason="$(jq -r '[.status.conditions[]? | select(.type == "Ready")][0].reason // ""' <<<"${json}")"
    message="$(jq -r '[.status.conditions[]? | select(.type == "Ready")][0].message // ""' <<<"${json}")"
    if [[ "${attempted}" == *"${commit}" ]]; then
      if [[ "${ready}" == True && "${expect}" == healthy ]]; then break; fi
      if [[ "${ready}" == False && "${reason}" != Progressing && "${reason}" != ProgressingWithRetry ]]; then
        [[ "${expect}" == unhealthy ]] && break
        die "Flux reports ${env} not Ready for ${commit:0:12}: ${reason}: ${message}"
      fi
      if [[ "${ready}" == True && "${expect}" == unhealthy ]]; then
        die "Flux reports ${env} Ready for ${commit:0:12}, expected its health check to fail"
      fi
    fi
    now="$(date +%s.%N)"
    if awk -v a="${t0}" -v b="${now}" -v t="${WAIT_TIMEOUT}" 'BEGIN { exit !(b - a > t) }'; then
      die "Flux did not report ${env} ${expect} for ${commit:0:12} within ${WAIT_TIMEOUT} s (last: revision ${attempted:-none}, Ready=${ready} ${reason}: ${message})"
    fi
    sleep 1
  done
  if [[ "${expect}" == healthy ]]; then
    (cd "${dir}" && scripts/validate-deployment.sh post-deploy "${env}" >&2) \
      || die "Flux reports ${env} Ready but its post-deploy checks failed (above)"
  else
    log "Flux: ${env} ${reason}: ${message}"
  fi
  printf '%s\n' "$(elapsed "${t0}" "$(date +%s.%N)")"
}

case "${1:-}" in
  clone) shift; clone "$@" ;;
  release) shift; release "$@" ;;
  promote) shift; promote "$@" ;;
  wait) shift; wait_env "$@" ;;
  -h|--help|*) usage ;;
esac
