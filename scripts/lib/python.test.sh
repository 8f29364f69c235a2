#!/usr/bin/env bash
# Test of pytest_isolated (scripts/lib/python.sh): a pytest session it runs keeps its
# tmp_path folders in a root of its own and never touches the root other sessions
# share, the one where two sessions ending at once trip over each other's cleanup
# (CI: "(rm_rf) error removing .../garbage-*: Directory not empty").
#
# Cases:
#   1. A passing suite: exit 0; the shared root's older session folders, which a plain
#      pytest session deletes as its own leftovers, are all still there; the session's
#      own root is gone.
#   2. A failing suite: its exit status (1) comes back; its root is gone too.
#   3. The baseline the cases stand on: a plain pytest session on the same shared root
#      does delete those folders, so case 1 can fail.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
die() { echo "python.test.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/python.sh
source "$REPO_ROOT/scripts/lib/python.sh"

venv="$(venv_for "$REPO_ROOT/fastapi-skeletons/tests/requirements.txt")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/suite"
cat >"$work/suite/test_tmp.py" <<'PY'
import os


def test_writes_in_tmp_path(tmp_path):
    (tmp_path / "data").write_text("x")
    assert (tmp_path / "data").read_text() == "x"


def test_may_fail(tmp_path):
    assert os.environ.get("MAKE_IT_FAIL") != "1"
PY

# Six older sessions' folders in the shared root (pytest keeps the newest 3 and
# deletes the rest when a session ends).
shared_root() {
  local tmpdir="$1" root
  root="$tmpdir/pytest-of-$(id -un)"
  for n in 0 1 2 3 4 5; do
    mkdir -p "$root/pytest-$n/test_old0"
    echo old >"$root/pytest-$n/test_old0/data"
  done
  touch -d '-1 day' "$root"/pytest-*
  echo "$root"
}
left() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '; }

# 1. A passing suite.
tmpdir="$work/tmp1"; mkdir -p "$tmpdir"
root="$(shared_root "$tmpdir")"
before="$(left "$root")"
(cd "$work/suite" && TMPDIR="$tmpdir" pytest_isolated "$venv" >"$work/out1" 2>&1) \
  || { cat "$work/out1"; fail "case 1: the passing suite did not exit 0"; }
[ "$(left "$root")" = "$before" ] \
  || fail "case 1: the shared root changed: before '$before', after '$(left "$root")'"
[ "$(left "$tmpdir")" = "pytest-of-$(id -un) " ] \
  || fail "case 1: the session's own root is left in TMPDIR: $(left "$tmpdir")"
echo "ok 1 - a passing suite: exit 0, the shared root untouched ($before), its own root removed"

# 2. A failing suite.
tmpdir="$work/tmp2"; mkdir -p "$tmpdir"
status=0
(cd "$work/suite" && TMPDIR="$tmpdir" MAKE_IT_FAIL=1 pytest_isolated "$venv" >"$work/out2" 2>&1) \
  || status=$?
[ "$status" = 1 ] || { cat "$work/out2"; fail "case 2: exit $status, expected 1"; }
[ -z "$(left "$tmpdir")" ] || fail "case 2: left in TMPDIR: $(left "$tmpdir")"
echo "ok 2 - a failing suite: exit 1, its own root removed"

# 3. The baseline: plain pytest cleans the shared root.
tmpdir="$work/tmp3"; mkdir -p "$tmpdir"
root="$(shared_root "$tmpdir")"
(cd "$work/suite" && TMPDIR="$tmpdir" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  >"$work/out3" 2>&1) || { cat "$work/out3"; fail "case 3: plain pytest failed"; }
after="$(left "$root")"
[ "$after" != "$before" ] \
  || fail "case 3: a plain pytest session left the shared root as it was ($after): case 1 proves nothing"
echo "ok 3 - baseline: a plain pytest session changes the shared root ($before -> $after)"
