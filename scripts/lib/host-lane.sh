# shellcheck shell=bash
# The host lane of `make test`: stages that need no cluster, no fixed port and no file
# another stage writes run one after another in the background, at lower priority, beside
# the other stages. The cluster stages leave about a third of the 2 cores idle (waits
# for probes, rollouts and drains); with `nice` (of its processes and of its session's
# autogroup) the lane takes that idle time and yields the rest.
#
# Sourced by scripts/test.sh:
#   host_lane_start STAGE...   starts the lane (a process group of its own)
#   host_lane_collect          prints the stages that ended since, each whole, in order,
#                              and adds their results to RESULTS/passed/failed
#   host_lane_await STAGE      waits until STAGE has ended (a stage that needs its output)
#   host_lane_main_ended STAGE OK   tells the lane a main stage ended (OK 1 passed)
#   host_lane_finish           waits for the lane, then collects everything
#   host_lane_kill             stops the lane and everything it started
# Run as a script it is the lane itself:
#   host-lane.sh run DIR STAGE...   runs each stage_STAGE (from HOST_LANE_STAGES_FILE,
#                                   default scripts/lib/stages.sh) with its output in
#                                   DIR/STAGE.log, then writes DIR/STAGE.result
#                                   ("PASS|FAIL SECONDS END_EPOCH"); a failure does not
#                                   stop the next stage, as in the main lane.
# Env: HOST_LANE_NICE (10, the prebuild's), HOST_LANE_LOGS (artifacts/host-lane),
# RUN_START_EPOCH (the run's start, for the "Ns into the run" of each stage),
# HOST_LANE_NEEDS ("STAGE=MAIN_STAGE ...": STAGE starts after MAIN_STAGE passed, when
# MAIN_STAGE is one of HOST_LANE_MAIN_STAGES, the main lane's stages of this run; it
# fails without running when MAIN_STAGE failed), HOST_LANE_AFTER_BUILDS (stages with time
# limits: they start once the background platform builds have ended, that is when
# PREBUILD_DONE_FILE exists or the process PREBUILD_PID is gone; unset: no wait).

HOST_LANE_PID="" HOST_LANE_DIR="" HOST_LANE_STAGES=() HOST_LANE_SHOWN=0

host_lane_start() {
  HOST_LANE_DIR="${HOST_LANE_LOGS:-$REPO_ROOT/artifacts/host-lane}"
  HOST_LANE_STAGES=("$@") HOST_LANE_SHOWN=0
  local nice="${HOST_LANE_NICE:-10}"
  rm -rf "$HOST_LANE_DIR" && mkdir -p "$HOST_LANE_DIR/main" || return 1
  log "host lane: ${HOST_LANE_STAGES[*]} in the background (nice $nice, its autogroup too) beside the stages below;" \
    "each is printed whole when it ends (as it runs: ${HOST_LANE_DIR#"$REPO_ROOT"/}/STAGE.log)"
  HOST_LANE_MAIN_STAGES="${HOST_LANE_MAIN_STAGES:-}" HOST_LANE_NICE="$nice" \
    setsid nice -n "$nice" bash "$REPO_ROOT/scripts/lib/host-lane.sh" run "$HOST_LANE_DIR" "$@" \
    </dev/null >"$HOST_LANE_DIR/lane.log" 2>&1 &
  HOST_LANE_PID=$!
}

host_lane_collect() {
  local stage verdict seconds end
  while [ "$HOST_LANE_SHOWN" -lt "${#HOST_LANE_STAGES[@]}" ]; do
    stage="${HOST_LANE_STAGES[$HOST_LANE_SHOWN]}"
    [ -f "$HOST_LANE_DIR/$stage.result" ] || return 0
    read -r verdict seconds end <"$HOST_LANE_DIR/$stage.result"
    log "stage $stage (host lane, ended $seconds s after it started)"
    cat "$HOST_LANE_DIR/$stage.log"
    host_lane_record "$stage" "$verdict" "$seconds" "$end"
    HOST_LANE_SHOWN=$((HOST_LANE_SHOWN + 1))
  done
}

host_lane_record() { # host_lane_record STAGE PASS|FAIL SECONDS END_EPOCH
  local line="$2 $1 (${3}s, host lane)"
  if [ "$2" = PASS ]; then passed+=("$1"); else failed+=("$1"); fi
  RESULTS+=("$line")
  log "$line at $(date -u -d "@$4" +%H:%M:%S), $(($4 - ${RUN_START_EPOCH:-$4}))s into the run"
}

host_lane_await() {
  local stage="$1" said=""
  [[ " ${HOST_LANE_STAGES[*]} " == *" $stage "* ]] || return 0
  until [ -f "$HOST_LANE_DIR/$stage.result" ]; do
    kill -0 "$HOST_LANE_PID" 2>/dev/null || return 1
    [ -n "$said" ] || { log "waiting for the host lane's $stage"; said=1; }
    sleep 1
  done
}

host_lane_main_ended() {
  [ -n "$HOST_LANE_DIR" ] || return 0
  if [ "$2" = 1 ]; then echo PASS; else echo FAIL; fi >"$HOST_LANE_DIR/main/$1.tmp"
  mv "$HOST_LANE_DIR/main/$1.tmp" "$HOST_LANE_DIR/main/$1"
}

host_lane_finish() {
  local stage
  [ -n "$HOST_LANE_PID" ] || return 0
  if kill -0 "$HOST_LANE_PID" 2>/dev/null; then
    for stage in "${HOST_LANE_STAGES[@]}"; do
      [ -f "$HOST_LANE_DIR/$stage.result" ] && continue
      log "waiting for the host lane ($stage is running)"
      break
    done
  fi
  wait "$HOST_LANE_PID" 2>/dev/null || true # each stage's result is in its file
  HOST_LANE_PID=""
  host_lane_collect
  # A stage the lane never ended (the lane died): its log so far, and a failure.
  while [ "$HOST_LANE_SHOWN" -lt "${#HOST_LANE_STAGES[@]}" ]; do
    stage="${HOST_LANE_STAGES[$HOST_LANE_SHOWN]}"
    log "stage $stage (host lane): did not end; its output so far, then the lane's own:"
    cat "$HOST_LANE_DIR/$stage.log" "$HOST_LANE_DIR/lane.log" 2>/dev/null || true
    host_lane_record "$stage" FAIL 0 "$(date +%s)"
    HOST_LANE_SHOWN=$((HOST_LANE_SHOWN + 1))
  done
}

host_lane_kill() {
  [ -n "$HOST_LANE_PID" ] || return 0
  kill -TERM -- "-$HOST_LANE_PID" 2>/dev/null
  HOST_LANE_PID=""
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == run ]]; then
  set -uo pipefail
  dir="$2"
  shift 2
  # shellcheck source=scripts/lib/toolchain.sh
  source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
  # shellcheck source=scripts/lib/stages.sh
  source "${HOST_LANE_STAGES_FILE:-$REPO_ROOT/scripts/lib/stages.sh}"
  cd "$REPO_ROOT" || exit 1
  # With sched_autogroup_enabled (Debian's kernels), the scheduler first shares the CPU
  # between sessions, and `nice` ranks processes only within one: this lane, a session of
  # its own (setsid), would take half the CPU from the main lane whatever its nice. So the
  # session's group gets the same nice. Only here, after setsid: written earlier it
  # would be the main lane's group.
  if [ -w /proc/self/autogroup ] && [ "$(ps -o sid= -p $$ | tr -d ' ')" = "$$" ]; then
    echo "${HOST_LANE_NICE:-10}" >/proc/self/autogroup || echo "could not set the lane's autogroup nice" >&2
  fi
  ensure_node
  ensure_yarn
  # needed_main_stage STAGE: the main stage STAGE waits for, if any runs.
  needed_main_stage() {
    local pair
    for pair in ${HOST_LANE_NEEDS:-}; do
      [ "${pair%%=*}" = "$1" ] && [[ " ${HOST_LANE_MAIN_STAGES:-} " == *" ${pair#*=} "* ]] && echo "${pair#*=}"
    done
    return 0
  }
  # platform_builds_ended: no background build is running (none was started, it wrote
  # its result, or its process is gone without one).
  platform_builds_ended() {
    [ -z "${PREBUILD_DONE_FILE:-}" ] || [ -f "$PREBUILD_DONE_FILE" ] || ! kill -0 "${PREBUILD_PID:-}" 2>/dev/null
  }
  for stage in "$@"; do
    start=$SECONDS verdict=PASS need_verdict=PASS
    need="$(needed_main_stage "$stage")"
    if [ -n "$need" ]; then
      echo "waiting for the $need stage (main lane)" >"$dir/$stage.log"
      until [ -f "$dir/main/$need" ]; do sleep 1; done
      need_verdict="$(cat "$dir/main/$need")"
      echo "the $need stage ended ($need_verdict) after $((SECONDS - start)) s" >>"$dir/$stage.log"
      start=$SECONDS
    fi
    # Beside the platform's Go builds (a cold run's first 22-49 minutes, at normal priority)
    # the lane gets a few percent of the CPU, too little for tests with time limits
    # (a cold run's unit stage timed out in six files); the static stages go on, and so
    # does a stage that will not run (its main stage failed).
    if [ "$need_verdict" = PASS ] && [[ " ${HOST_LANE_AFTER_BUILDS:-} " == *" $stage "* ]] && ! platform_builds_ended; then
      echo "waiting for the platform builds (artifacts/prebuild.log): beside them this lane gets too little CPU for the stage's time limits" >>"$dir/$stage.log"
      waited=$SECONDS
      until platform_builds_ended; do sleep 2; done
      echo "the platform builds ended after $((SECONDS - waited)) s" >>"$dir/$stage.log"
      start=$SECONDS
    fi
    if [ "$need_verdict" != PASS ]; then
      echo "not run: it checks what the $need stage makes, and that stage failed" >>"$dir/$stage.log"
      verdict=FAIL
    else
      (set -e; "stage_$stage") >>"$dir/$stage.log" 2>&1 || verdict=FAIL
    fi
    # Written last and whole: a reader never sees half a result.
    echo "$verdict $((SECONDS - start)) $(date +%s)" >"$dir/$stage.result.tmp"
    mv "$dir/$stage.result.tmp" "$dir/$stage.result"
  done
fi
