#!/usr/bin/env bash
# scripts/test-portal-on-cluster.sh without a running cluster: refused at once with how to
# start one, before any kubectl call (which would only print connection errors to
# localhost:8080) and before it creates anything (its work dir, or an emptied report of
# the last run).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
report="$REPO_ROOT/artifacts/portal-on-cluster/results.md"
state() { # what the script must leave as it found it
  ls -d /tmp/golden-path-portal-on-cluster.* 2>/dev/null || true
  if [ -e "$report" ]; then sha256sum "$report"; else echo "no report"; fi
}

state >"$work/before"
rc=0
PLATFORM_STATE="$work/no-cluster" bash "$REPO_ROOT/scripts/test-portal-on-cluster.sh" >"$work/out" 2>&1 || rc=$?
state >"$work/after"
[ "$rc" -ne 0 ] || fail "exit 0 without a cluster"
grep -q "the local cluster is not running: start it with NODES=1 platform/cluster.sh start" "$work/out" ||
  fail "no hint to start the cluster: $(cat "$work/out")"
if grep -q "localhost:8080\|memcache.go" "$work/out"; then fail "kubectl ran without a cluster: $(cat "$work/out")"; fi
[ ! -e "$work/no-cluster" ] || fail "it created the cluster state dir"
diff "$work/before" "$work/after" >/dev/null || fail "it changed what it found: $(diff "$work/before" "$work/after")"
echo "PASS: refused without a cluster, with how to start one, nothing created"
