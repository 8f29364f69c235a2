#!/usr/bin/env bash
# Bad input to platform/local-repo.sh and platform/gitops-loop.sh (which run generated
# repositories on the local cluster): each case must fail (non-zero) with a message that
# says what to fix, and build or push nothing. Needs no cluster. The generated repositories come
# from the templates stage (the template-checks stage, scripts/test-templates.sh check,
# passes artifacts/templates).
#
# usage: platform/local-repo.test.sh <folder of generated repositories>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
generated="${1:?usage: $0 <folder of generated repositories, e.g. artifacts/templates>}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
failures=0

# expect_error DESCRIPTION EXPECTED_SUBSTRING COMMAND...
expect_error() {
  local what="$1" expected="$2" out rc=0
  shift 2
  out="$("$@" 2>&1)" || rc=$?
  if (( rc != 0 )) && [[ "${out}" == *"${expected}"* ]]; then
    echo "  ok   ${what}"
  else
    echo "  FAIL ${what}: exit ${rc}, expected a message with '${expected}', got:"
    printf '%s\n' "${out}" | tail -n 5 | sed 's/^/         /'
    failures=$((failures + 1))
  fi
}

local_repo() { bash "${here}/local-repo.sh" "$@"; }
copy() { cp -R "${generated}/$1/typical" "${work}/$2"; printf '%s\n' "${work}/$2"; }

expect_error "a path that is not a folder" "is not a folder" local_repo render "${work}/missing"

repo="$(copy fastapi-static-web no-overlay)"
rm -rf "${repo}/overlays"
expect_error "a repository without overlays/local" "has no overlays/local/kustomization.yaml" \
  local_repo render "${repo}"

repo="$(copy fastapi-multi-tier renamed-folder)"
mv "${repo}/backend" "${repo}/api"
expect_error "an image whose build folder cannot be told" "cannot tell which folder builds shop-backend" \
  local_repo build "${repo}"

repo="$(copy fastapi-static-web third-party)"
sed -i -E 's#^([[:space:]]*image:).*#\1 "nginx:1.27"#' "${repo}/k8s/deployment.yaml"
expect_error "a third-party image without a stand-in" "nginx:1.27 would be pulled from a registry" \
  local_repo build "${repo}"

repo="$(copy fastapi-static-web broken-overlay)"
printf 'resources: [../../missing]\n' > "${repo}/overlays/local/kustomization.yaml"
expect_error "an overlay kustomize cannot render" "kustomize could not render" \
  local_repo render "${repo}"

repo="$(copy fastapi-static-web other-cluster)"
expect_error "images for another cluster than the local one" "KUBECONFIG points at another cluster" \
  env KUBECONFIG="${work}/kind-kubeconfig" bash "${here}/local-repo.sh" images "${repo}"

expect_error "an unknown command" "Usage:" local_repo deploy "${repo}"

# Blue-green: one Dockerfile builds each slot's image with --build-arg APP_VERSION=<tag>.
repo="$(copy fastapi-blue-green slot-images)"
rendered="$(local_repo render "${repo}" | sed -nE 's/^[[:space:]]*image:[[:space:]]*"?([^"[:space:]]+)"?.*$/\1/p' | sort -u | tr '\n' ' ')"
if [[ "${rendered}" == "localhost/shop:1.0.0 localhost/shop:2.0.0 " ]]; then
  echo "  ok   blue-green: overlays/local runs localhost/shop:1.0.0 and :2.0.0"
else
  echo "  FAIL blue-green: overlays/local should run localhost/shop:1.0.0 and :2.0.0, runs: ${rendered}"
  failures=$((failures + 1))
fi
repo="$(copy fastapi-blue-green slot-tag-not-a-version)"
sed -i -E 's#(image:[[:space:]]*"[^"]*):2\.0\.0"#\1:latest"#' "${repo}/k8s/green-deployment.yaml"
expect_error "a per-version Dockerfile (ARG APP_VERSION) with a tag that is not X.Y.Z" \
  "so its tag must be a version X.Y.Z" local_repo build "${repo}"

# gitops-loop.sh: the GitOps template's loop; refusals come before any build or push.
gitops_loop() { bash "${here}/gitops-loop.sh" "$@"; }
expect_error "gitops-loop: no command" "Usage:" gitops_loop
expect_error "gitops-loop: a folder that is not a fastapi-gitops clone" "is not a clone of a fastapi-gitops repository" \
  gitops_loop release "$(copy fastapi-static-web not-gitops)"
repo="$(copy fastapi-gitops gitops)"
expect_error "gitops-loop: promotion to an environment that is not staging or prod" "staging or prod, not 'dev'" \
  gitops_loop promote "${repo}" dev
expect_error "gitops-loop: waiting for an unknown environment" "dev, staging or prod, not 'qa'" \
  gitops_loop wait "${repo}" qa
expect_error "gitops-loop: cloning into a folder that exists" "exists: give a new folder" \
  gitops_loop clone hello-gitops "${repo}"
expect_error "gitops-loop: release with an overlay that names no image" "names no image" \
  bash -c 'sed -i "/- name:/d" "$1/overlays/dev/kustomization.yaml" && bash "$2" release "$1"' _ "${repo}" "${here}/gitops-loop.sh"

(( failures == 0 )) || { echo "local-repo.sh, gitops-loop.sh: ${failures} case(s) failed"; exit 1; }
echo "local-repo.sh, gitops-loop.sh: every bad input refused with a clear message"
