#!/usr/bin/env bash
# Browser tests in Debian's Chromium against the running portal: the backend serves the
# built app on :7007, as in production. Screenshots land in artifacts/screenshots.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/backend.sh"
source "$(dirname "$0")/lib/local-loop.sh"
source "$(dirname "$0")/lib/app-bundle.sh"
ensure_toolchain
ensure_techdocs_venv
ensure_apt_packages chromium

ARTIFACTS="$REPO_ROOT/artifacts"
mkdir -p "$ARTIFACTS/screenshots"
DATA_DIR="$(mktemp -d /tmp/golden-path-e2e.XXXXXX)"
trap 'stop_backend; rm -rf "$DATA_DIR"' EXIT

if [ -n "${E2E_SKIP_BUILD:-}" ] && [ -d "$REPO_ROOT/packages/app/dist" ]; then
  log "reusing packages/app/dist (E2E_SKIP_BUILD is set)"
else
  ensure_app_bundle "$ARTIFACTS/app-build.log"
fi

use_scratch_data "$DATA_DIR"
cat >"$DATA_DIR/app-config.e2e.yaml" <<YAML
app:
  baseUrl: http://localhost:7007
backend:
  cors:
    origin: http://localhost:7007
# The search test waits for TechDocs built by the tests before it to be indexed: every
# 10 s here instead of every minute. ISO strings, not { seconds: 10 }: config objects
# merge, and { minutes: 1 } from app-config.yaml would make it 1 min 10 s.
search:
  collators:
    techdocs:
      schedule:
        frequency: PT10S
        timeout: PT5M
        initialDelay: PT5S
YAML
configs=(--config "$REPO_ROOT/app-config.yaml" --config "$DATA_DIR/app-config.e2e.yaml")
# A phase may run no test only when the caller narrowed the run (e.g. --grep ...);
# a plain `make test` must run both phases' tests.
no_tests_ok=()
[ $# -gt 0 ] && no_tests_ok=(--pass-with-no-tests)

# E2E_PHASES=cluster runs phase 2 only, E2E_BLUE_GREEN=0 leaves the blue-green service
# out of it (make gitops-loop: its test needs neither).
E2E_PHASES="${E2E_PHASES:-plain cluster}"
E2E_BLUE_GREEN="${E2E_BLUE_GREEN:-1}"

# Phase 1: the portal as a new user starts it, with no cluster configured.
if [[ " $E2E_PHASES " == *" plain "* ]]; then
  log "e2e without a cluster"
  start_backend "$ARTIFACTS/e2e-backend.log" "${configs[@]}"
  rc=0
  yarn playwright test "${no_tests_ok[@]}" --grep-invert @cluster "$@" || rc=$?
  stop_backend
  [ "$rc" = 0 ] || die "the browser tests without a cluster failed (screenshots in artifacts/)"
fi
[[ " $E2E_PHASES " == *" cluster "* ]] || exit 0

# Phase 2: the local control plane with the demo workload (make demo), the portal
# pointed at it: the Kubernetes tab and the rollouts plugin, including a live switch.
log "e2e with the demo cluster"
# kubectl as the local cluster's admin (its kubeconfig from platform/cluster.sh).
cluster_kubectl() { KUBECONFIG="${PLATFORM_STATE:-/tmp/golden-path-platform}/kubeconfig" kubectl "$@"; }
# A cluster this script did not start stays running (make test shares one between
# stages): the services it deployed go (the Create flow's with its Flux objects first,
# while Flux still prunes), the demo stays as make demo leaves it.
LOOP_SERVICE=golden-loop
# The GitOps template's service (gitops-loop.test.ts): one Flux registration and one
# namespace per environment.
GITOPS_SERVICE=golden-gitops
GITOPS_ENVIRONMENTS=("$GITOPS_SERVICE-dev" "$GITOPS_SERVICE-staging" "$GITOPS_SERVICE-prod")
remove_generated_services() {
  cluster_kubectl -n flux-system delete kustomizations.kustomize.toolkit.fluxcd.io,gitrepositories.source.toolkit.fluxcd.io \
    "$LOOP_SERVICE" "${GITOPS_ENVIRONMENTS[@]}" --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1 || true
  # One call: the namespaces terminate side by side.
  # shellcheck disable=SC2086 # bg_namespace is one word or unset
  cluster_kubectl delete namespace ${bg_namespace:-} "$LOOP_SERVICE" "${GITOPS_ENVIRONMENTS[@]}" \
    --ignore-not-found --wait=true --timeout=120s >/dev/null || true
}
trap 'stop_backend; if [ -n "${CLUSTER_STARTED:-}" ]; then bash "$REPO_ROOT/platform/cluster.sh" stop; else remove_generated_services; fi; stop_local_git_server; rm -rf "$DATA_DIR"' EXIT
demo_cluster_up
# The whole Create loop as make start wires it (scripts/lib/local-loop.sh): a throw-away
# Git server at the address the templates offer, Flux reading it, local image builds.
export GITEA_HOME="$DATA_DIR/gitea"
start_local_git_server
connect_local_cluster_loop
export E2E_LOOP_SERVICE="$LOOP_SERVICE" E2E_GITOPS_SERVICE="$GITOPS_SERVICE" E2E_GITEA_URL="$GITEA_URL" E2E_GITEA_ORG="$GITEA_ORG"
# Next to the demo: the service the fastapi-blue-green template generates (its typical
# example, rendered by the templates stage), built and run on the real node, and
# registered in the catalog; the Rollouts tab switches it with the preview Service's
# smoke test. The platform engineer's step for a new namespace is done here too: the
# rollouts plugin's write role bound in it (deploy/portal/README.md).
# Config arrays replace each other: the portal's own location is listed again.
cat >"$DATA_DIR/app-config.e2e-cluster.yaml" <<YAML
catalog:
  locations:
    - type: file
      target: ../../catalog-info.yaml
YAML
if [ "$E2E_BLUE_GREEN" = 1 ]; then
  bg_repo="$REPO_ROOT/artifacts/templates/fastapi-blue-green/typical"
  [ -f "$bg_repo/catalog-info.yaml" ] \
    || die "no generated blue-green repository in $bg_repo: run the templates stage first (STAGES=templates scripts/test.sh)"
  log "the generated blue-green service on the real node (log: artifacts/e2e-blue-green.log)"
  bash "$REPO_ROOT/platform/local-repo.sh" apply "$bg_repo" >"$ARTIFACTS/e2e-blue-green.log" 2>&1 \
    || { tail -n 40 "$ARTIFACTS/e2e-blue-green.log"; die "the generated blue-green service did not start"; }
  bg_namespace="$(sed -nE 's/^namespace: *"?([a-z0-9-]+)"?$/\1/p' "$bg_repo/k8s/kustomization.yaml")"
  [ -n "$bg_namespace" ] || die "no namespace in $bg_repo/k8s/kustomization.yaml"
  cluster_kubectl -n "$bg_namespace" \
    create rolebinding backstage-rollouts-write --clusterrole=backstage-rollouts-write \
    --serviceaccount=golden-path-portal:backstage-rollouts --dry-run=client -o yaml \
    | cluster_kubectl apply -f - >/dev/null
  printf '    - type: file\n      target: %s/catalog-info.yaml\n' "$bg_repo" >>"$DATA_DIR/app-config.e2e-cluster.yaml"
fi
start_backend "$ARTIFACTS/e2e-backend-cluster.log" "${configs[@]}" --config "$REPO_ROOT/app-config.cluster.yaml" \
  --config "$DATA_DIR/app-config.e2e-cluster.yaml"
# Two browsers: the GitOps loop (about 3 minutes, most of it waiting for builds, Flux and
# rollouts) runs beside the other files, whose tests stay in order in the other worker
# (a file's tests share the demo: the Rollouts tab's switch, the demo actions).
# E2E_CLUSTER_WORKERS=1: one file after another.
yarn playwright test "${no_tests_ok[@]}" --grep @cluster --workers "${E2E_CLUSTER_WORKERS:-2}" "$@"
