#!/usr/bin/env bash
# `make test`: every check of the project, each stage set up from scratch where needed.
# Select stages with STAGES="lint unit" (default: all, in the order below).
set -uo pipefail
source "$(dirname "$0")/lib/toolchain.sh"

ALL_STAGES=(setup typecheck lint prettier unit mutation manifest-checks techdocs templates template-checks backend-postgres kube-multinode kube-integration e2e fresh-app replicas rollouts-bench)
# These run on one local cluster (1 real node) when more than one of them is selected:
# started before the first, stopped after the last (see shared_cluster_* below).
SHARED_CLUSTER_STAGES=(kube-integration e2e fresh-app replicas rollouts-bench)
read -r -a STAGES <<<"${STAGES:-${ALL_STAGES[*]}}"
# shellcheck source=scripts/lib/stages.sh
source "$REPO_ROOT/scripts/lib/stages.sh"
# shellcheck source=scripts/lib/host-lane.sh
source "$REPO_ROOT/scripts/lib/host-lane.sh"

# The platform's Go programs and assets (Gitea, Kubernetes, add-ons, Flux), built in the
# background from the end of setup on (platform/prebuild.sh): a cold run's first stages
# leave a core and the network idle, and the stages that need them wait for a build in
# progress instead of starting it. PREBUILD=0 turns it off.
PLATFORM_STAGES=(templates template-checks kube-multinode kube-integration e2e fresh-app replicas rollouts-bench)
PREBUILD_PID=""
prebuild_start() {
  local s wanted=0
  for s in "${STAGES[@]}"; do
    [[ " ${PLATFORM_STAGES[*]} " == *" $s "* ]] && wanted=1
  done
  [ "$wanted" = 1 ] && [ "${PREBUILD:-1}" != 0 ] || return 0
  mkdir -p "$REPO_ROOT/artifacts"
  log "platform/prebuild.sh in the background (log: artifacts/prebuild.log)"
  # Its exit status in PREBUILD_DONE_FILE when it ends: the host lane's stages with time
  # limits wait for that (HOST_LANE_AFTER_BUILDS).
  PREBUILD_DONE_FILE="$REPO_ROOT/artifacts/prebuild.done"
  rm -f "$PREBUILD_DONE_FILE"
  setsid bash -c 'bash "$1"; rc=$?; echo "$rc" >"$2.tmp" && mv "$2.tmp" "$2"; exit "$rc"' prebuild \
    "$REPO_ROOT/platform/prebuild.sh" "$PREBUILD_DONE_FILE" >"$REPO_ROOT/artifacts/prebuild.log" 2>&1 &
  PREBUILD_PID=$!
  PREBUILD_START=$SECONDS
  export PREBUILD_DONE_FILE PREBUILD_PID
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
trap 'host_lane_kill; prebuild_kill; shared_cluster_stop; rm -rf "$TEST_TMPDIR"' EXIT

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
RUN_START_EPOCH=$(($(date +%s) - SECONDS))
export RUN_START_EPOCH

# The lanes. The host lane (scripts/lib/host-lane.sh) takes these when other stages are
# selected too: they need no cluster, no fixed port (e2e and the benchmark use 7007;
# backend-postgres takes a free one) and write nothing another stage reads, except typecheck's
# dist-types/, which fresh-app's `yarn pack` reads: fresh-app waits for typecheck.
# template-checks reads what the templates stage renders: it waits for that stage.
# HOST_LANE=0: every stage in order, in the foreground.
HOST_LANE_CANDIDATES=(typecheck lint prettier unit mutation manifest-checks techdocs template-checks backend-postgres)
export HOST_LANE_NEEDS="template-checks=templates"
# Stages whose verdict depends on time (Jest timeouts, Stryker's per-mutant timeouts,
# the generated services' drain tests, a backend's start) wait for the background platform
# builds, beside which the lane would starve; typecheck, lint and prettier do not.
export HOST_LANE_AFTER_BUILDS="unit mutation template-checks backend-postgres"
host_lane_run=() main_run=()
for stage in "${STAGES[@]}"; do
  if [ "${HOST_LANE:-1}" != 0 ] && [[ " ${HOST_LANE_CANDIDATES[*]} " == *" $stage "* ]]; then
    host_lane_run+=("$stage")
  else
    main_run+=("$stage")
  fi
done
beside=0
for stage in "${main_run[@]}"; do [ "$stage" = setup ] || beside=$((beside + 1)); done
if [ "$beside" = 0 ]; then
  # Nothing to run beside them: the host lane's stages run in the foreground.
  main_run=("${STAGES[@]}") host_lane_run=()
fi

for stage in "${STAGES[@]}"; do
  declare -F "stage_$stage" >/dev/null || die "unknown stage '$stage' (known: ${ALL_STAGES[*]})"
done
for stage in "${main_run[@]}"; do
  # The host lane starts with the first stage after setup (it needs the toolchain).
  if [ "$stage" != setup ] && [ "${#host_lane_run[@]}" -gt 0 ] && [ -z "$HOST_LANE_DIR" ]; then
    HOST_LANE_MAIN_STAGES="${main_run[*]}" host_lane_start "${host_lane_run[@]}" || die "could not start the host lane"
  fi
  host_lane_collect
  log "stage $stage"
  start=$SECONDS
  ok=1
  if [[ " ${SHARED_CLUSTER_STAGES[*]} " == *" $stage "* ]] && [ -z "$SHARED_CLUSTER_DIR" ] && shared_cluster_wanted; then
    shared_cluster_start || { log "the shared cluster did not start"; ok=0; }
  fi
  [ "$stage" = fresh-app ] && { host_lane_await typecheck || ok=0; }
  [ "$ok" = 1 ] && { (set -e; "stage_$stage") || ok=0; }
  if [ "$stage" = "$(last_shared_stage)" ]; then
    # The host check after the cluster's stop sees no process of the lane.
    host_lane_finish
    shared_cluster_stop || ok=0
  fi
  host_lane_main_ended "$stage" "$ok"
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
host_lane_finish
prebuild_finish
summary
[ ${#failed[@]} -eq 0 ]
