#!/usr/bin/env bash
# stop_backend (scripts/lib/backend.sh) waits for the backend's whole process group, not
# only its leader: in dev mode the leader (yarn) exits about 0.1 s after TERM while the
# backend it started shuts down for longer. A stand-in group: a leader that exits on TERM
# at once, and a child that takes 1 s to stop and records that it stopped by itself.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/toolchain.sh
source "$REPO_ROOT/scripts/lib/toolchain.sh"
# shellcheck source=scripts/lib/backend.sh
source "$REPO_ROOT/scripts/lib/backend.sh"
work="$(mktemp -d)"
# Only a group this test started (stop_backend clears BACKEND_PID; "-0" would be ours).
trap '[ -z "${BACKEND_PID:-}" ] || kill -KILL -- "-${BACKEND_PID}" 2>/dev/null || true; rm -rf "${work}"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

setsid bash -c '
  bash -c "trap \"sleep 1; touch $1/child-stopped; exit 0\" TERM; while :; do sleep 0.05; done" &
  trap "exit 0" TERM
  wait
' _ "$work" >/dev/null 2>&1 &
BACKEND_PID=$!
sleep 0.5 # both processes have set their traps

stop_backend >"$work/out" 2>&1
[ -e "$work/child-stopped" ] || fail "stop_backend returned before the group's child stopped (it was killed): $(cat "$work/out")"
[ "$BACKEND_STOP_KILLED" = 0 ] || fail "BACKEND_STOP_KILLED=$BACKEND_STOP_KILLED for a group that stopped within 30 s"
awk -v s="$BACKEND_STOP_SECONDS" 'BEGIN { exit !(s >= 1) }' ||
  fail "BACKEND_STOP_SECONDS=$BACKEND_STOP_SECONDS, but the group's child took 1 s"
grep -q "backend stopped .* s after SIGTERM" "$work/out" || fail "no stop time printed: $(cat "$work/out")"
echo "PASS: stop_backend waits for the whole group (${BACKEND_STOP_SECONDS} s), not only its leader"

# The KILL path: a child that ignores TERM is killed when the timeout ends, with the whole
# group, and reported as killed. (BACKEND_STOP_TIMEOUT=1 keeps this check short.)
setsid bash -c 'bash -c "trap \"\" TERM; while :; do sleep 0.05; done" & trap "exit 0" TERM; wait' \
  >/dev/null 2>&1 &
stubborn=$!
BACKEND_PID="$stubborn"
sleep 0.5
BACKEND_STOP_TIMEOUT=1 stop_backend_group "$stubborn" "stand-in backend" >"$work/out" 2>&1
BACKEND_PID=
[ "$BACKEND_STOP_KILLED" = 1 ] || fail "BACKEND_STOP_KILLED=$BACKEND_STOP_KILLED for a group whose child ignores TERM"
wait "$stubborn" 2>/dev/null || true # reap the leader; init reaps its child
for _ in $(seq 1 20); do group_running "$stubborn" || break; sleep 0.1; done
! group_running "$stubborn" || fail "the group still runs 2 s after stop_backend_group's KILL"
grep -q "stand-in backend still ran 1 s after SIGTERM: killed" "$work/out" || fail "no kill reported: $(cat "$work/out")"
echo "PASS: stop_backend_group kills the whole group when it outlives the timeout, and says so"

# exec_in_own_session: a session of its own (stop_backend signals its group), whose
# autogroup takes the host lane's nice when HOST_LANE_NICE is set, and keeps 0 without.
if [ -r /proc/self/autogroup ]; then
  for lane_nice in 7 ""; do
    (HOST_LANE_NICE="$lane_nice" exec_in_own_session bash -c \
      'echo "$$ $(ps -o sid= -p $$ | tr -d " ") $(sed -E "s/.* nice (-?[0-9]+)$/\1/" /proc/self/autogroup)"') \
      >"$work/session" 2>&1 &
    wait $!
    read -r pid sid nice <"$work/session" || fail "exec_in_own_session printed: $(cat "$work/session")"
    [ "$sid" = "$pid" ] || fail "exec_in_own_session: session $sid, not one of its own ($pid)"
    [ "$nice" = "${lane_nice:-0}" ] ||
      fail "exec_in_own_session with HOST_LANE_NICE='$lane_nice': autogroup nice $nice, expected ${lane_nice:-0}"
  done
  echo "PASS: exec_in_own_session starts a session of its own, with the host lane's autogroup nice inside the lane"
else
  echo "SKIP: no /proc/self/autogroup (kernel without sched_autogroup): nothing to nice"
fi
