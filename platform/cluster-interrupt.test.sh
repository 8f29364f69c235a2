#!/usr/bin/env bash
# An interrupted `cluster.sh start` leaves nothing running: TERM to every `cluster.sh
# start` process while the add-ons are being waited for (what a CI runner's kill or
# `pkill -f` does) stops the partial cluster, and no `kubectl rollout status` outlives
# it (before the fix its add-on waits' kubectl ran on until their timeouts), and the
# host is as it was before.
#
# Needs the machine's cluster addresses: run it when no local cluster is up.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if bash "${PLATFORM_DIR}/cluster.sh" status >/dev/null 2>&1; then
  die "a local cluster is running: stop it first (platform/cluster.sh stop)"
fi
out="$(mktemp -d)"
snapshot="${REPO_ROOT}/tests/kube-integration/host-snapshot.sh"
bash "${snapshot}" snapshot "${out}/host-before"
start_pid=""
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  [[ -z "${start_pid}" ]] || kill -TERM "${start_pid}" 2>/dev/null || true
  bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null 2>&1 || true
  rm -rf "${out}"
}
trap cleanup EXIT

waits_running() { pgrep -f "kubectl.* rollout status deployment/" >/dev/null; }
waits_running && die "a kubectl rollout status is already running on this machine: cannot tell whose it is"

# What the start builds, built first (cache hits when warm; a cold run waits here for
# them, or for the background prebuild building them): the 300 s below time the start
# alone. The cold CI run's start spent them building and never reached its add-ons.
for build in "${CLUSTER_BUILDS[@]}"; do
  bash "${PLATFORM_DIR}/${build}" >/dev/null || die "platform/${build} failed (above)"
done
NODES=1 bash "${PLATFORM_DIR}/cluster.sh" start >"${out}/start.log" 2>&1 &
start_pid=$!
deadline=$((SECONDS + 300))
until waits_running; do
  kill -0 "${start_pid}" 2>/dev/null || { tail -n 30 "${out}/start.log" >&2; die "cluster.sh start ended before its add-on waits"; }
  ((SECONDS < deadline)) || die "no add-on wait after 300 s (log above)"
  sleep 0.2
done
log "add-on waits running: TERM to every 'cluster.sh start' process"
pkill -TERM -f "platform/cluster.sh start" || true
if wait "${start_pid}"; then die "cluster.sh start exited 0 after TERM"; fi
start_pid=""

deadline=$((SECONDS + 15))
while waits_running; do
  ((SECONDS < deadline)) || { pgrep -af "rollout status" >&2; die "kubectl rollout status still running 15 s after the interrupted start (above)"; }
  sleep 0.5
done
# The partial cluster's processes (all run from the cache's Kubernetes binaries) are gone.
if pgrep -f "$(kube_bin_dir)/" >/dev/null; then
  pgrep -af "$(kube_bin_dir)/" >&2
  die "processes of the interrupted cluster still run (above)"
fi
bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null 2>&1 || true
bash "${snapshot}" snapshot "${out}/host-after"
bash "${snapshot}" compare "${out}/host-before" "${out}/host-after" \
  || die "the interrupted start left something behind on the host (above)"
echo "interrupted start: partial cluster stopped, no add-on wait left running, host as before"
