#!/usr/bin/env bash
# scripts/lib/host-lane.sh: stages run in the background at lower priority, each printed
# whole and in order, a failure does not stop the next, a stage that needs another's
# output can wait for it, stages with time limits wait for the platform builds, a lane that
# dies is reported, and a kill leaves nothing running.
set -euo pipefail
source "$(dirname "$0")/toolchain.sh"
source "$REPO_ROOT/scripts/lib/host-lane.sh"

work="$(mktemp -d)"
builds_pid=""
trap 'host_lane_kill; [ -z "$builds_pid" ] || kill "$builds_pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HOST_LANE_STAGES_FILE="$work/stages.sh" HOST_LANE_LOGS="$work/logs"
cat >"$HOST_LANE_STAGES_FILE" <<'STAGES'
stage_first() { echo "first: line 1"; sleep 0.3; echo "first: line 2"; }
stage_broken() { echo "broken: about to fail"; false; }
stage_slow() { sleep 1; echo "slow: done" >"$HOST_LANE_LOGS/slow.marker"; echo "slow: wrote its marker"; }
stage_niceness() {
  echo "niceness: $(ps -o ni= -p "$BASHPID" | tr -d ' ')"
  [ ! -e /proc/self/autogroup ] || echo "autogroup: $(sed 's/.* nice //' /proc/self/autogroup)"
}
stage_hang() { sleep 300 & echo "$!" >"$HOST_LANE_LOGS/hang.pid"; wait; }
stage_needy() { echo "needy: ran"; }
stage_dies() { local me=$BASHPID; echo "dies: taking the lane down"; kill -9 "$(ps -o ppid= -p "$me" | tr -d ' ')"; }
STAGES

# 1. Order, failure, waiting, priority.
RESULTS=() passed=() failed=()
HOST_LANE_NICE=7 host_lane_start first broken slow niceness 2>/dev/null
host_lane_await slow 2>/dev/null || fail "await returned an error for a stage that passed"
[ -f "$HOST_LANE_LOGS/slow.marker" ] || fail "await returned before the stage it waits for had ended"
host_lane_finish >"$work/out" 2>&1
grep -q "first: line 1" "$work/out" && grep -q "first: line 2" "$work/out" || fail "a stage's output is not printed whole"
[ "$(grep -n "first: line 2" "$work/out" | cut -d: -f1)" -lt "$(grep -n "broken: about" "$work/out" | cut -d: -f1)" ] \
  || fail "stages are not printed in their order"
[ "$(printf '%s\n' "${RESULTS[@]}" | sed 's/ (.*, host lane)$//' | paste -sd,)" = "PASS first,FAIL broken,PASS slow,PASS niceness" ] \
  || fail "results: ${RESULTS[*]}"
[ "${failed[*]}" = broken ] && [ "${passed[*]}" = "first slow niceness" ] || fail "passed/failed: ${passed[*]} / ${failed[*]}"
# Relative to this test's own priority (it may run inside a lane itself), capped at 19.
want_nice=$(($(ps -o ni= -p "$$") + 7)); [ "$want_nice" -le 19 ] || want_nice=19
grep -q "niceness: $want_nice\$" "$work/out" \
  || fail "the lane does not run at HOST_LANE_NICE 7 above its caller (want $want_nice): $(grep niceness: "$work/out")"
# The lane is a session of its own; with autogroups, its group must have the nice too
# (else it takes half the CPU from the main lane). Never the caller's group.
if [ -e /proc/self/autogroup ]; then
  grep -q "^autogroup: 7$" "$work/out" || fail "the lane's autogroup does not have HOST_LANE_NICE 7: $(grep autogroup: "$work/out")"
  [ "$(sed 's/.* nice //' /proc/self/autogroup)" != 7 ] || fail "the caller's own autogroup got the lane's nice"
fi
echo "ok: order, whole output, a failure does not stop the next stage, await, nice (process and autogroup)"

# 2. A lane that dies: the stage it was in, and the ones after, fail with what it printed.
RESULTS=() passed=() failed=()
host_lane_start first dies slow 2>/dev/null
host_lane_finish >"$work/out" 2>&1
[ "${failed[*]}" = "dies slow" ] || fail "a lane that died: failed=${failed[*]}"
grep -q "dies: taking the lane down" "$work/out" || fail "the dead lane's last stage's output is not shown"
grep -q "did not end" "$work/out" || fail "the dead lane is not reported"
echo "ok: a lane that dies fails its unfinished stages and shows their output"

# 3. A stage that needs a main stage waits for it, and does not run when it failed.
RESULTS=() passed=() failed=()
HOST_LANE_NEEDS="needy=render" HOST_LANE_MAIN_STAGES="setup render" host_lane_start needy 2>/dev/null
sleep 1.5
[ -f "$HOST_LANE_LOGS/needy.result" ] && fail "a stage ran before the main stage it needs had ended"
host_lane_main_ended render 1
host_lane_finish >"$work/out" 2>&1
[ "${passed[*]}" = needy ] && grep -q "needy: ran" "$work/out" || fail "a stage whose main stage passed: ${RESULTS[*]}"
grep -q "waiting for the render stage (main lane)" "$work/out" || fail "the wait is not in the stage's output"
RESULTS=() passed=() failed=()
HOST_LANE_NEEDS="needy=render" HOST_LANE_MAIN_STAGES="render" host_lane_start needy 2>/dev/null
host_lane_main_ended render 0
host_lane_finish >"$work/out" 2>&1
[ "${failed[*]}" = needy ] && ! grep -q "needy: ran" "$work/out" || fail "a stage whose main stage failed ran anyway: ${RESULTS[*]}"
grep -q "what the render stage makes, and that stage failed" "$work/out" || fail "the reason is not in the stage's output"
RESULTS=() passed=() failed=()
HOST_LANE_NEEDS="needy=render" HOST_LANE_MAIN_STAGES="setup" host_lane_start needy 2>/dev/null
host_lane_finish >"$work/out" 2>&1
[ "${passed[*]}" = needy ] || fail "a stage whose main stage is not in the run waited or failed: ${RESULTS[*]}"
echo "ok: a stage waits for the main stage it needs, and is not run when that stage failed"

# 4. A stage with time limits waits for the background platform builds; a static one does
# not, nor one that will not run; a build process gone without a result does not hold the lane.
RESULTS=() passed=() failed=()
sleep 300 & builds_pid=$!
HOST_LANE_AFTER_BUILDS="needy" PREBUILD_DONE_FILE="$work/prebuild.done" PREBUILD_PID="$builds_pid" \
  host_lane_start first needy 2>/dev/null
for _ in $(seq 50); do [ -f "$HOST_LANE_LOGS/first.result" ] && break; sleep 0.1; done
[ -f "$HOST_LANE_LOGS/first.result" ] || fail "a stage without time limits waited for the platform builds"
sleep 1.5
[ -f "$HOST_LANE_LOGS/needy.result" ] && fail "a stage with time limits ran while the platform builds ran"
echo 0 >"$work/prebuild.done"
host_lane_finish >"$work/out" 2>&1
[ "${passed[*]}" = "first needy" ] || fail "after the builds: ${RESULTS[*]}"
grep -q "waiting for the platform builds" "$work/out" || fail "the wait for the builds is not in the stage's output"
# A stage that will not run (its main stage failed) fails at once, without waiting.
RESULTS=() passed=() failed=()
rm -f "$work/prebuild.done"
HOST_LANE_AFTER_BUILDS="needy" PREBUILD_DONE_FILE="$work/prebuild.done" PREBUILD_PID="$builds_pid" \
  HOST_LANE_NEEDS="needy=render" HOST_LANE_MAIN_STAGES="render" host_lane_start needy 2>/dev/null
host_lane_main_ended render 0
for _ in $(seq 50); do [ -f "$HOST_LANE_LOGS/needy.result" ] && break; sleep 0.1; done
[ -f "$HOST_LANE_LOGS/needy.result" ] || fail "a stage whose main stage failed waited for the platform builds"
host_lane_finish >/dev/null 2>&1
[ "${failed[*]}" = needy ] || fail "a stage whose main stage failed: ${RESULTS[*]}"
# A build process gone without a result does not hold the lane.
RESULTS=() passed=() failed=()
HOST_LANE_AFTER_BUILDS="needy" PREBUILD_DONE_FILE="$work/prebuild.done" PREBUILD_PID="$builds_pid" \
  host_lane_start needy 2>/dev/null
sleep 1
kill "$builds_pid"; wait "$builds_pid" 2>/dev/null || true; builds_pid=""
host_lane_finish >"$work/out" 2>&1
[ "${passed[*]}" = needy ] || fail "builds gone without a result held the lane: ${RESULTS[*]}"
echo "ok: a stage with time limits waits for the platform builds; a static one, one that will not run and a vanished build do not"

# 5. A kill stops the lane's whole process group.
RESULTS=() passed=() failed=()
host_lane_start hang 2>/dev/null
for _ in $(seq 50); do [ -s "$HOST_LANE_LOGS/hang.pid" ] && break; sleep 0.1; done
hang_pid="$(cat "$HOST_LANE_LOGS/hang.pid")"
host_lane_kill
for _ in $(seq 50); do kill -0 "$hang_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$hang_pid" 2>/dev/null && { kill "$hang_pid"; fail "a killed lane left its stage's child running"; }
echo "ok: a kill leaves nothing of the lane running"
