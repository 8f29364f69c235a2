#!/usr/bin/env bash
# scripts/shellcheck.sh fails on a script with warnings and names them, passes a clean
# one, reports identical copies once, follows `# shellcheck source=` paths from the
# repository's root wherever it is run from, and refuses a folder without scripts.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$work/bad/a" "$work/bad/b" "$work/good" "$work/empty"

cat >"$work/bad/a/deploy.sh" <<'SH'
#!/usr/bin/env bash
unused_name=demo
cd /srv/app
echo "deployed"
SH
cp "$work/bad/a/deploy.sh" "$work/bad/b/deploy.sh"
cat >"$work/good/deploy.sh" <<'SH'
#!/usr/bin/env bash
name=demo
cd /srv/app || exit 1
echo "deployed $name"
SH

if "$REPO_ROOT/scripts/shellcheck.sh" "$work/bad" >"$work/out" 2>&1; then
  fail "a script with warnings passed: $(cat "$work/out")"
fi
grep -q 'SC2034' "$work/out" || fail "the unused variable (SC2034) is not named: $(cat "$work/out")"
grep -q 'SC2164' "$work/out" || fail "cd without a fallback (SC2164) is not named: $(cat "$work/out")"
[ "$(grep -c 'warning:' "$work/out")" = 2 ] || fail "two identical copies were not reported once: $(cat "$work/out")"

"$REPO_ROOT/scripts/shellcheck.sh" "$work/good" >"$work/out" 2>&1 || fail "a clean script failed: $(cat "$work/out")"

# A constant that only a sourced file reads (as the blue-green template's bg-switch.sh
# and scripts/lib/bg-cluster.sh): used, from wherever the check runs.
mkdir -p "$work/sourcing/scripts/lib"
cat >"$work/sourcing/scripts/switch.sh" <<'SH'
#!/usr/bin/env bash
SLOT_LABEL=app.kubernetes.io/slot
# shellcheck source=scripts/lib/slots.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/slots.sh"
show_slot
SH
cat >"$work/sourcing/scripts/lib/slots.sh" <<'SH'
# shellcheck shell=bash
show_slot() { echo "label: $SLOT_LABEL"; }
SH
(cd / && "$REPO_ROOT/scripts/shellcheck.sh" "$work/sourcing") >"$work/out" 2>&1 ||
  fail "a variable read only by a sourced file was reported unused: $(cat "$work/out")"

if "$REPO_ROOT/scripts/shellcheck.sh" "$work/empty" >"$work/out" 2>&1; then
  fail "a folder without scripts passed"
fi
grep -q 'no shell scripts' "$work/out" || fail "no reason given for an empty folder: $(cat "$work/out")"
echo "PASS: scripts/shellcheck.sh fails on warnings (once per distinct script) and passes a clean script"
