# shellcheck shell=bash
# What each stage of `make test` does (scripts/test.sh decides the order and the lanes;
# scripts/lib/host-lane.sh runs some of them in the background). Sourced; needs
# scripts/lib/toolchain.sh and REPO_ROOT.
# Set by scripts/test.sh while its shared cluster runs, and for its temporary files:
: "${SHARED_CLUSTER_DIR:=}" "${TEST_TMPDIR:=${TMPDIR:-/tmp}}"

stage_setup() {
  ensure_apt_packages chromium postgresql openssl graphviz fonts-dejavu-core shellcheck
  # What real nodes and the images built here need (platform/lib.sh has the list).
  local platform_packages
  read -r -a platform_packages <<<"$(source "$REPO_ROOT/platform/lib.sh" && echo "${PLATFORM_APT_PACKAGES[@]}")"
  ensure_apt_packages "${platform_packages[@]}"
  ensure_toolchain
}
# Then the published packages' API reports (`yarn build:api-reports` writes them): a
# public API change that was not reported fails here, from the declarations tsc just wrote.
# Not incremental: an incremental build can print an inferred union's members in another
# order (they follow the order TypeScript met them in), and the reports compare text.
stage_typecheck() {
  yarn tsc --incremental false || return 1
  local start=$SECONDS
  yarn check:api-reports || { log "FAIL: API reports are stale: run 'yarn build:api-reports' and commit the report*.api.md files"; return 1; }
  log "API reports up to date ($((SECONDS - start))s)"
}
# ESLint, then ShellCheck on the repository's own scripts (the generated repositories'
# are checked in the template-checks stage), and the host lane's own test.
stage_lint() {
  ensure_apt_packages shellcheck
  yarn backstage-cli repo lint --max-warnings 0 &&
    bash "$REPO_ROOT/scripts/shellcheck.test.sh" &&
    bash "$REPO_ROOT/scripts/lib/host-lane.test.sh" &&
    "$REPO_ROOT/scripts/shellcheck.sh"
}
stage_prettier() { yarn prettier --check .; }
stage_unit() { CI=true yarn backstage-cli repo test; }
# Mutation testing of the guard-critical files only (`make mutation` runs everything):
# fails when a test suite lets too many planted bugs through.
stage_mutation() { MUTATION_SAMPLE=1 MUTATION_CONCURRENCY=2 "$REPO_ROOT/scripts/mutation.sh"; }
stage_manifest-checks() { "$REPO_ROOT/tools/manifest-checks/run-tests.sh"; }
stage_techdocs() { "$REPO_ROOT/tools/techdocs/run-tests.sh"; }
# Rendering and publishing, then the generated repositories' own checks (their tests,
# manifests, docs, scripts), which the cluster stages do not wait for; first, the test of
# the wrapper their pytest runs under (python.test.sh).
stage_templates() { "$REPO_ROOT/scripts/test-templates.sh" render; }
stage_template-checks() { bash "$REPO_ROOT/scripts/lib/python.test.sh" && "$REPO_ROOT/scripts/test-templates.sh" check; }
stage_backend-postgres() { "$REPO_ROOT/scripts/test-backend-postgres.sh"; }
# The templates stage's repositories must be there: a missing one fails, never skips.
stage_kube-integration() { REQUIRE_GENERATED_TEMPLATES=1 "$REPO_ROOT/scripts/test-kube-integration.sh"; }
# Three real nodes: what one node cannot show (pods on different nodes reaching each
# other, a drain that a PodDisruptionBudget holds). Only the tests that need them, one
# file at a time (the drain empties a node the other file's pods run on).
# First: concurrent callers of the Kubernetes build on a fresh cache (a cold run's
# prebuild and this stage), and (no cluster is up yet) an interrupted start leaves
# nothing running.
stage_kube-multinode() {
  bash "$REPO_ROOT/platform/kubernetes/build-concurrent.test.sh" &&
  bash "$REPO_ROOT/platform/cluster-interrupt.test.sh" &&
  NODES=3 KUBE_INTEGRATION_JEST_ONLY=1 KUBE_INTEGRATION_WORKERS=1 "$REPO_ROOT/scripts/test-kube-integration.sh" \
    src/real-node src/pdb-drain
}
stage_e2e() { bash "$REPO_ROOT/scripts/lib/app-bundle.test.sh" && "$REPO_ROOT/scripts/test-e2e.sh"; }
# The published packages installed into an app made by @backstage/create-app, following
# their READMEs, reading the shared cluster's demo (alone: without a cluster, the tab's
# "No cluster configured" state).
stage_fresh-app() {
  if [ -z "${KUBECONFIG:-}" ] && bash "$REPO_ROOT/platform/cluster.sh" status >/dev/null 2>&1; then
    FLUX_DISABLED=1 bash "$REPO_ROOT/platform/demo.sh" up >"$TEST_TMPDIR/fresh-app-demo.log" 2>&1 \
      || { tail -n 40 "$TEST_TMPDIR/fresh-app-demo.log"; return 1; }
    (eval "$(bash "$REPO_ROOT/platform/cluster.sh" env)" && FRESH_APP_KUBERNETES_ID=fastapi-demo "$REPO_ROOT/scripts/test-fresh-app.sh")
  else
    "$REPO_ROOT/scripts/test-fresh-app.sh"
  fi
}
# Two portal backends on one PostgreSQL and the shared cluster: a switch through one shows
# on a page of the other within 1 s, is patched and audited once, API requests grow with
# replicas, not pages (10 s request windows here; 30 s by default).
stage_replicas() { REPLICAS_WINDOW_SECONDS="${REPLICAS_WINDOW_SECONDS:-10}" "$REPO_ROOT/scripts/test-replicas.sh"; }
# A short run of the rollouts benchmarks: proves they still work on a clean clone and
# prints their numbers; `make bench` runs them at full length.
# Its scale sample (100 Deployments, 500 pods, 1,100 ReplicaSets) is left for the cluster's
# stop when this run started the cluster and this is its last stage. The backend runs in
# dev mode here: building the production bundle would add ~75 s (offline, a status request
# cost the same CPU in both modes: tests/rollouts-bench/README.md); make bench runs the
# production bundle.
stage_rollouts-bench() {
  local cleanup=wait
  [ -n "$SHARED_CLUSTER_DIR" ] && [ "$(last_shared_stage)" = rollouts-bench ] && cleanup=discard
  BENCH_WINDOW_SECONDS="${BENCH_WINDOW_SECONDS:-10}" BENCH_TRIALS="${BENCH_TRIALS:-4}" \
    BENCH_LOAD_REQUESTS="${BENCH_LOAD_REQUESTS:-400}" BENCH_MEMORY_PODS="${BENCH_MEMORY_PODS:-300}" \
    BENCH_SCALE_DEPLOYMENTS="${BENCH_SCALE_DEPLOYMENTS:-100}" BENCH_SCALE_NAMESPACES="${BENCH_SCALE_NAMESPACES:-10}" \
    BENCH_SCALE_TRIALS="${BENCH_SCALE_TRIALS:-3}" BENCH_SCALE_CLEANUP="${BENCH_SCALE_CLEANUP:-$cleanup}" \
    BENCH_BACKEND_MODE="${BENCH_BACKEND_MODE:-dev}" \
    "$REPO_ROOT/scripts/bench-rollouts.sh"
}

