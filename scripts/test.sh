#!/usr/bin/env bash
# `make test`: every check of the project, each stage set up from scratch where needed.
# Select stages with STAGES="lint unit" (default: all, in the order below).
set -uo pipefail
source "$(dirname "$0")/lib/toolchain.sh"

ALL_STAGES=(setup typecheck lint prettier unit mutation manifest-checks techdocs templates backend-postgres kube-multinode kube-integration e2e fresh-app replicas rollouts-bench)
# These run on one local cluster (1 real node) when more than one of them is selected:
# started before the first, stopped after the last (see shared_cluster_* below).
SHARED_CLUSTER_STAGES=(kube-integration e2e fresh-app replicas rollouts-bench)
read -r -a STAGES <<<"${STAGES:-${ALL_STAGES[*]}}"

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
# are checked in the templates stage).
stage_lint() {
  ensure_apt_packages shellcheck
  yarn backstage-cli repo lint --max-warnings 0 &&
    bash "$REPO_ROOT/scripts/shellcheck.test.sh" &&
    "$REPO_ROOT/scripts/shellcheck.sh"
}
stage_prettier() { yarn prettier --check .; }
stage_unit() { CI=true yarn backstage-cli repo test; }
# Mutation testing of the guard-critical files only (`make mutation` runs everything):
# fails when a test suite lets too many planted bugs through.
stage_mutation() { MUTATION_SAMPLE=1 MUTATION_CONCURRENCY=2 "$REPO_ROOT/scripts/mutation.sh"; }
stage_manifest-checks() { "$REPO_ROOT/tools/manifest-checks/run-tests.sh"; }
stage_techdocs() { "$REPO_ROOT/tools/techdocs/run-tests.sh"; }
stage_templates() { "$REPO_ROOT/scripts/test-templates.sh"; }
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

# The platform's Go programs and assets (Gitea, Kubernetes, add-ons, Flux), built in the
# background from the end of setup on (platform/prebuild.sh): a cold run's first stages
# leave a core and the network idle, and the stages that need them wait for a build in
# progress instead of starting it. PREBUILD=0 turns it off.
PLATFORM_STAGES=(templates kube-multinode kube-integration e2e fresh-app replicas rollouts-bench)
PREBUILD_PID=""
prebuild_start() {
  local s wanted=0
  for s in "${STAGES[@]}"; do
    [[ " ${PLATFORM_STAGES[*]} " == *" $s "* ]] && wanted=1
  done
  [ "$wanted" = 1 ] && [ "${PREBUILD:-1}" != 0 ] || return 0
  mkdir -p "$REPO_ROOT/artifacts"
  log "platform/prebuild.sh in the background (log: artifacts/prebuild.log)"
  setsid bash "$REPO_ROOT/platform/prebuild.sh" >"$REPO_ROOT/artifacts/prebuild.log" 2>&1 &
  PREBUILD_PID=$!
  PREBUILD_START=$SECONDS
}
# At the end: its result in the summary (a failure is the stage's that needed it too).
prebuild_finish() {
  [ -n "$PREBUILD_PID" ] || return 0
  if wait "$PREBUILD_PID"; then
    RESULTS+=("(background) platform prebuild done; $(grep -c 'prebuild: platform/' "$REPO_ROOT/artifacts/prebuild.log") builds, $(sed -n 's/.*prebuild: everything in //p' "$REPO_ROOT/artifacts/prebuild.log")")
  else
    tail -n 20 "$REPO_ROOT/artifacts/prebuild.log" >&2
    RESULTS+=("(background) platform prebuild FAILED after $((SECONDS - PREBUILD_START))s (artifacts/prebuild.log)")
  fi
  PREBUILD_PID=""
}
prebuild_kill() {
  [ -n "$PREBUILD_PID" ] && kill -TERM -- "-$PREBUILD_PID" 2>/dev/null
  return 0
}

# The tests' temporary files go in a directory of this run's own, removed at the end:
# some tools never remove theirs (the scaffolder's dry-run workspaces, Backstage's mock
# directories), and a test run must leave the machine as it found it.
TEST_TMPDIR="$(mktemp -d /tmp/golden-path-test.XXXXXX)"
export TMPDIR="$TEST_TMPDIR"
trap 'prebuild_kill; shared_cluster_stop; rm -rf "$TEST_TMPDIR"' EXIT

# The shared cluster. Each of its stages reuses a running cluster and leaves it running;
# what a stage does alone around its own cluster is done here: prove the host check can
# fail, record the host, start; after the last stage print the cluster's timings, stop,
# and compare the host with the record (a leftover fails that stage).
SHARED_CLUSTER_DIR=""
shared_cluster_wanted() {
  local s n=0
  for s in "${STAGES[@]}"; do
    [[ " ${SHARED_CLUSTER_STAGES[*]} " == *" $s "* ]] && n=$((n + 1))
  done
  [ "$n" -gt 1 ] && [ -z "${KUBECONFIG:-}" ]
}
shared_cluster_start() {
  local snapshot="$REPO_ROOT/tests/kube-integration/host-snapshot.sh"
  SHARED_CLUSTER_DIR="$(mktemp -d)"
  log "one local cluster for ${SHARED_CLUSTER_STAGES[*]}"
  bash "$snapshot" selftest && bash "$snapshot" snapshot "$SHARED_CLUSTER_DIR/host-before" \
    && NODES=1 bash "$REPO_ROOT/platform/cluster.sh" start
}
shared_cluster_stop() {
  local snapshot="$REPO_ROOT/tests/kube-integration/host-snapshot.sh" rc=0
  [ -n "$SHARED_CLUSTER_DIR" ] || return 0
  bash "$REPO_ROOT/platform/cluster.sh" stats >&2 || true
  bash "$REPO_ROOT/platform/cluster.sh" stop || rc=1
  bash "$snapshot" snapshot "$SHARED_CLUSTER_DIR/host-after" || rc=1
  if ! bash "$snapshot" compare "$SHARED_CLUSTER_DIR/host-before" "$SHARED_CLUSTER_DIR/host-after"; then
    log "FAIL: the shared cluster's stages left something behind on the host (above)"
    rc=1
  fi
  rm -rf "$SHARED_CLUSTER_DIR"
  SHARED_CLUSTER_DIR=""
  return $rc
}
last_shared_stage() {
  local s last=""
  for s in "${STAGES[@]}"; do
    [[ " ${SHARED_CLUSTER_STAGES[*]} " == *" $s "* ]] && last="$s"
  done
  echo "$last"
}

passed=() failed=()
summary() {
  echo
  log "Summary"
  local line
  for line in "${RESULTS[@]}"; do echo "  $line"; done
  echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
}
RESULTS=()
cd "$REPO_ROOT"
ensure_node
ensure_yarn
for stage in "${STAGES[@]}"; do
  declare -F "stage_$stage" >/dev/null || die "unknown stage '$stage' (known: ${ALL_STAGES[*]})"
  log "stage $stage"
  start=$SECONDS
  ok=1
  if [[ " ${SHARED_CLUSTER_STAGES[*]} " == *" $stage "* ]] && [ -z "$SHARED_CLUSTER_DIR" ] && shared_cluster_wanted; then
    shared_cluster_start || { log "the shared cluster did not start"; ok=0; }
  fi
  [ "$ok" = 1 ] && { (set -e; "stage_$stage") || ok=0; }
  if [ "$stage" = "$(last_shared_stage)" ]; then shared_cluster_stop || ok=0; fi
  # Printed as each stage ends too: an interrupted run still shows where its time went.
  if [ "$ok" = 1 ]; then
    passed+=("$stage"); RESULTS+=("PASS $stage ($((SECONDS - start))s)")
  else
    failed+=("$stage"); RESULTS+=("FAIL $stage ($((SECONDS - start))s)")
  fi
  log "${RESULTS[-1]} at $(date -u +%H:%M:%S), ${SECONDS}s into the run"
  if [ "$ok" != 1 ]; then
    # Without setup nothing else can run.
    [ "$stage" = setup ] && break
  fi
  [ "$stage" = setup ] && prebuild_start
done
prebuild_finish
summary
[ ${#failed[@]} -eq 0 ]
